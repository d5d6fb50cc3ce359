//! OneDrive's QuickXorHash, as Microsoft publishes it
//! (https://learn.microsoft.com/onedrive/developer/code-snippets/quickxorhash): a 160-bit
//! block into which byte `i` of the input is XORed, rotated left by `11 * i` bits; the
//! block's bytes little-endian, with the input's length (64 bits, little-endian) XORed
//! into its last eight bytes, in base64.
//!
//! A byte's rotation repeats every 160 bytes (`11 * 160` is a multiple of 160), so the
//! input is first folded onto 160 byte lanes, one XOR per byte; the rotations are applied
//! once, at the end.

use base64::Engine;

#[derive(Clone)]
pub struct QuickXor {
    lanes: [u8; 160],
    len: u64,
}

impl Default for QuickXor {
    fn default() -> Self {
        QuickXor { lanes: [0; 160], len: 0 }
    }
}

impl QuickXor {
    pub fn update(&mut self, data: &[u8]) {
        let mut lane = (self.len % 160) as usize;
        for b in data {
            self.lanes[lane] ^= b;
            lane = if lane == 159 { 0 } else { lane + 1 };
        }
        self.len += data.len() as u64;
    }

    /// The hash in base64, as Graph gives it in `file.hashes.quickXorHash`.
    pub fn finish(&self) -> String {
        // bit p of the 160-bit block is bit p % 8 of byte p / 8: a ring of 20 bytes
        let mut block = [0u8; 20];
        for (lane, b) in self.lanes.iter().enumerate() {
            if *b == 0 {
                continue;
            }
            let shift = lane * 11 % 160;
            let wide = (*b as u16) << (shift % 8);
            let at = shift / 8;
            block[at] ^= wide as u8;
            block[(at + 1) % 20] ^= (wide >> 8) as u8;
        }
        for (i, b) in self.len.to_le_bytes().iter().enumerate() {
            block[12 + i] ^= b;
        }
        base64::engine::general_purpose::STANDARD.encode(block)
    }
}

pub fn of(data: &[u8]) -> String {
    let mut q = QuickXor::default();
    q.update(data);
    q.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_and_any_split_of_the_input_agree() {
        assert_eq!(of(b"hello world"), "aCgDG9jwBhDc4Q1yawMZAAAAAAA=");
        assert_eq!(of(b""), "AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        // as the published algorithm gives them (the stand-in's implementation of it)
        let sample = |n: usize| (0..n).map(|i| (i * 7 % 251) as u8).collect::<Vec<u8>>();
        assert_eq!(of(&sample(1000)), "hNsGCVKR90prHWP/ZJHOFVZ+TIk=");
        assert_eq!(of(&sample(700_001)), "QX8KGVB7Fgwu/+7ZhIYrhQD5faI=");
        let data: Vec<u8> = (0..100_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let whole = of(&data);
        for cut in [1, 159, 160, 161, 4096, 99_999] {
            let mut q = QuickXor::default();
            q.update(&data[..cut]);
            q.update(&data[cut..]);
            assert_eq!(q.finish(), whole, "cut at {cut}");
        }
    }
}
