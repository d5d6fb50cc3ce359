//! Facebook, Instagram and LinkedIn archives end to end (`archive:PATH`), on archives made
//! by the generators in `fixtures/`, each dated variant: every record arrives in the
//! package with its fields and Meta's mojibake repaired, a thread split over files is one
//! conversation with its media attached, a file no rule reads is reported, a broken file
//! fails alone with its reason, and the package verifies and survives a folder.

mod archive_checks;
mod common;
mod fixtures;
use archive_checks::*;
use common::*;
use fixtures::{Zip, facebook, instagram, linkedin, write_tree};
use serde_json::Value;

/// No string of the package's records still holds Meta's mojibake (`Ã`, `Â`, `ð`, `â€`);
/// every message of a chat is one shown.
fn no_mojibake(recs: &[Value]) {
    for r in recs {
        for m in r["record"]["messages"].as_array().into_iter().flatten() {
            assert_eq!(m["visible"], true, "{m}");
        }
        let s = r["record"].to_string();
        for bad in ["Ã", "Â", "ð\u{9f}", "â\u{80}"] {
            assert!(!s.contains(bad), "mojibake left ({bad}) in {s}");
        }
    }
}

#[test]
fn both_facebook_variants_give_posts_threads_comments_reactions_and_friends() {
    for variant in [facebook::Variant::Y2018, facebook::Variant::Y2024] {
        let new = variant == facebook::Variant::Y2024;
        let t = tempfile::tempdir().unwrap();
        let data = t.path().join("data");
        let zip = zip_of(t.path(), "facebook-annlee-2024.zip", &facebook::entries(variant));
        let pkg = t.path().join("p.zip");
        let (code, report, out) = export(&data, &format!("archive:{}", zip.display()), &pkg);
        assert_eq!(code, Some(3), "done, with the cut thread's failure: {out}");

        // posts: the text, place, tag and photo repaired and attached; the missing photo said
        let social_recs = records(&pkg, "social/social.jsonl");
        no_mojibake(&social_recs);
        let social = by_id(&social_recs);
        let posts: Vec<&Value> = social.iter().filter(|(k, _)| k.starts_with("post:")).map(|(_, v)| v).collect();
        assert_eq!(posts.len(), 3, "{:?}", social.keys().collect::<Vec<_>>());
        let cafe = posts.iter().find(|p| p["record"]["content"] == "Café with Zoë 🎉").expect("the post, repaired");
        assert_eq!(cafe["record"]["published"], "2020-09-13T12:26:40Z", "seconds since 1970");
        assert!(cafe["record"].get("visibility").is_none(), "Facebook does not say who saw it");
        assert_eq!(attached(cafe), ["111_n.jpg"]);
        let object = &cafe["record"]["activity"]["object"];
        assert_eq!(object["location"]["name"], "Café Central");
        assert_eq!(object["location"]["latitude"], 48.2104);
        assert_eq!(object["tag"][0]["name"], "Zoë Roe");
        assert_eq!(object["attachment"][0]["url"], "111_n.jpg");
        let edited = posts.iter().find(|p| p["record"]["content"] == "just text").unwrap();
        assert_eq!(edited["record"]["activity"]["updated"], "2020-09-13T12:30:00+00:00");
        let link = posts.iter().find(|p| p["record"].get("content").is_none()).expect("a post of a link alone");
        assert_eq!(link["record"]["activity"]["object"]["attachment"][0]["href"], "https://example.org/article");
        let w = warnings(&report, "social");
        let said = &w[link["id"].as_str().unwrap()];
        assert!(said.contains("gone_n.jpg") && said.contains("does not hold"), "{w:?}");
        assert!(said.contains("../../../../etc/passwd") && said.contains("media /etc/passwd"), "a path out is nothing: {said}");
        assert!(attached(link).is_empty());

        // comments: posts in reply, said in words; the sticker attached
        let comments: Vec<&Value> = social.iter().filter(|(k, _)| k.starts_with("comment:")).map(|(_, v)| v).collect();
        assert_eq!(comments.len(), 2, "`{}` read", if new { "comments_v2" } else { "comments" });
        let schon = comments.iter().find(|c| c["record"]["content"] == "Schön!").unwrap();
        assert_eq!(schon["record"]["activity"]["object"]["inReplyTo"]["name"], "Ann Lee commented on Bob Roe's post.");
        let reply = comments.iter().find(|c| c["record"].get("content").is_none()).unwrap();
        assert_eq!(attached(reply), ["st_9.png"]);
        assert_eq!(reply["record"]["activity"]["object"]["inReplyTo"]["name"], "Ann Lee replied to Zoë Roe's comment.");

        // reactions: likes with their reaction; the newer entry's link as the object
        let likes: Vec<&Value> = social.values().filter(|v| v["record"]["kind"] == "like").collect();
        assert_eq!(likes.len(), if new { 3 } else { 2 });
        assert!(likes.iter().any(|l| l["record"]["options"]["reaction"] == "LOVE"));
        if new {
            let wow = &social["like:https://www.facebook.com/carl.poe/posts/555"];
            assert_eq!(
                (wow["record"]["object"].as_str(), wow["record"]["options"]["reaction"].as_str()),
                (Some("https://www.facebook.com/carl.poe/posts/555"), Some("WOW"))
            );
        }

        // friends: one followed account each, repaired
        assert_eq!(social["friend:Bob Roe"]["record"]["kind"], "following");
        assert_eq!(social["friend:Zoë Roe"]["record"]["published"], "2015-12-13T09:46:40Z");
        assert_eq!(social["friend:Zoë Roe"]["record"]["options"]["contact_info"], "zoe@example.org");

        // threads: the split one is one conversation, oldest first, with its files
        let convs = records(&pkg, "conversations/conversations.jsonl");
        no_mojibake(&convs);
        let convs = by_id(&convs);
        assert_eq!(convs.len(), 2, "two threads; the cut one fails: {:?}", convs.keys().collect::<Vec<_>>());
        let bob = &convs[facebook::THREAD];
        assert_eq!(bob["container"], "inbox");
        let c = &bob["record"];
        assert_eq!((c["platform"].as_str(), c["kind"].as_str(), c["title"].as_str()), (Some("facebook"), Some("chat"), Some("Bob Roe")));
        let msgs = c["messages"].as_array().unwrap();
        let texts: Vec<&str> = msgs.iter().map(|m| m["content"][0]["text"].as_str().unwrap_or("")).collect();
        assert_eq!(texts, ["Hallo Ann", "", "https://example.org/song", "Grüße aus Köln!"], "message_2 then message_1, each oldest first");
        assert_eq!(msgs[0]["created"], "2020-09-14T16:13:20Z", "milliseconds since 1970");
        assert_eq!(msgs[3]["author"]["name"], "Bob Roe");
        assert_eq!(msgs[3]["reactions"][0], serde_json::json!({"name": "❤", "count": 2, "users": ["Ann Lee", "Bob Roe"]}));
        assert_eq!(msgs[3]["reactions"][1]["name"], "😆");
        assert_eq!(msgs[3]["attachments"][0]["file"], "222_n.jpg");
        assert_eq!(msgs[3]["extra"]["is_geoblocked_for_viewer"], false, "what is not modelled is kept");
        assert_eq!(msgs[2]["content"][0]["type"], "other");
        assert_eq!(msgs[2]["content"][0]["text"], "https://example.org/song");
        assert_eq!(msgs[2]["attachments"][0]["extra"]["kind"], "audio");
        assert_eq!(msgs[1]["attachments"][0]["file"], "s_1.png", "a sticker by the other period's path, found");
        let mut files = attached(bob);
        files.sort();
        assert_eq!(files, ["222_n.jpg", "clip_1.mp4", "s_1.png"]);
        assert_eq!(c["extra"]["thread_path"], facebook::THREAD);
        let hiking = &convs["archived_threads/hiking_20"];
        assert_eq!(hiking["container"], "archived_threads");
        assert_eq!(hiking["record"]["title"], "Hiking 🥾");
        let people: Vec<&str> = hiking["record"]["participants"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert_eq!(people, ["Ann Lee", "Carl Poe", "Dan Left"], "one who wrote and left is a participant too");
        assert_eq!(hiking["record"]["extra"]["image_file"], "group.jpg");
        let mut files = attached(hiking);
        files.sort();
        assert_eq!(files, ["group.jpg", "route.gpx"]);

        // the cut thread fails alone, with its reason
        let failed = problems(&report, "conversations");
        assert_eq!(failed.len(), 1, "{failed:?}");
        assert!(failed["inbox/cut_77/message_1.json"].contains("not the JSON expected"), "{failed:?}");

        // the profile kept, a photo of no post kept, the unknown file not understood
        let fw = warnings(&report, "files");
        let profile = if new {
            "personal_information/profile_information/profile_information.json"
        } else {
            "profile_information/profile_information.json"
        };
        assert!(fw[profile].contains("profile"), "{fw:?}");
        let media = if new { "your_facebook_activity/posts/media" } else { "photos_and_videos" };
        assert!(fw[&format!("{media}/Profilepictures_1/333_n.jpg")].contains("no item read attaches"), "{fw:?}");
        assert!(fw["security_and_login_information/logins_and_logouts.json"].contains("not understood"), "{fw:?}");
        for claimed in [format!("{media}/Mobileuploads_abc/111_n.jpg"), format!("{media}/stickers_used/st_9.png")] {
            assert!(!fw.contains_key(&claimed), "{claimed} is a post's: {fw:?}");
        }
        verifies_and_survives_a_folder(&data, &pkg, &t.path().join("out"));
    }
}

#[test]
fn both_instagram_variants_give_posts_threads_follows_and_likes() {
    for variant in [instagram::Variant::Y2021, instagram::Variant::Y2024] {
        let new = variant == instagram::Variant::Y2024;
        let t = tempfile::tempdir().unwrap();
        let data = t.path().join("data");
        // the 2024 one as the folder it was extracted to
        let source = if new {
            let root = t.path().join("instagram-ann.lee-2024");
            write_tree(&root, &instagram::entries(variant));
            root
        } else {
            zip_of(t.path(), "instagram-ann.lee-2021.zip", &instagram::entries(variant))
        };
        let pkg = t.path().join("p.zip");
        let (code, report, out) = export(&data, &format!("archive:{}", source.display()), &pkg);
        assert_eq!(code, Some(if new { 3 } else { 0 }), "the 2024 one with the cut file's failure: {out}");
        let recs = records(&pkg, "social/social.jsonl");
        no_mojibake(&recs);
        let social = by_id(&recs);
        let posts: Vec<&Value> = social.values().filter(|v| v["record"]["kind"] == "post").collect();
        assert_eq!(posts.len(), 2);
        let zurich = posts.iter().find(|p| p["record"]["content"] == "Sommer in Zürich ☀️ #see").expect("repaired");
        assert_eq!(attached(zurich), ["1_n.jpg", "2_n.jpg"]);
        assert_eq!(zurich["record"]["published"], "2021-07-11T10:40:00Z");
        let geneve = posts.iter().find(|p| p["record"]["content"] == "Été à Genève").expect("one photo: its title is the caption");
        assert_eq!(attached(geneve), ["3_n.jpg"]);
        assert_eq!(social["follower:carl.poe"]["record"]["account"], "https://www.instagram.com/carl.poe");
        assert_eq!(social["follower:zoë"]["record"]["kind"], "follower");
        assert_eq!(social["following:dora"]["record"]["account"], "https://www.instagram.com/dora", "by `title` and `/_u/` in 2024");
        assert_eq!(social["following:dora"]["record"]["published"], "2020-09-13T12:26:40Z");
        let like = &social["like:https://www.instagram.com/p/XYZ789/"];
        assert_eq!(like["record"]["options"]["reaction"], "👍");
        assert_eq!(like["record"]["options"]["author"], "dora");
        assert_eq!(social.len(), 6, "{:?}", social.keys().collect::<Vec<_>>());

        let convs = records(&pkg, "conversations/conversations.jsonl");
        no_mojibake(&convs);
        assert_eq!(convs.len(), 1);
        let c = &convs[0];
        assert_eq!((c["id"].as_str(), c["record"]["platform"].as_str()), (Some("inbox/carlpoe_9"), Some("instagram")));
        let msgs = c["record"]["messages"].as_array().unwrap();
        assert_eq!(msgs[0]["content"][0]["text"], "Look");
        assert_eq!(msgs[0]["content"][1]["value"]["share_text"], "Fondue 🧀");
        assert_eq!(msgs[0]["attachments"][0]["file"], "5_n.jpg");
        assert_eq!(msgs[1]["content"][0]["text"], "schön 😍");
        assert_eq!(msgs[1]["reactions"][0]["users"], serde_json::json!(["ann.lee"]));
        assert_eq!(attached(c), ["5_n.jpg"]);

        let failed = problems(&report, "social");
        let fw = warnings(&report, "files");
        if new {
            // cut off after its first account: that one arrives, the file fails with why
            assert_eq!(failed.len(), 1, "{failed:?}");
            let (item, why) = failed.iter().next().unwrap();
            assert!(item.starts_with("connections/followers_and_following/following.json"), "{item}");
            assert!(why.contains("not the JSON expected") && why.contains("after 1 entries"), "{why}");
            assert!(fw["ads_information/ads_and_topics/ads_viewed.json"].contains("not understood"), "{fw:?}");
            assert!(fw["personal_information/personal_information/personal_information.json"].contains("profile"), "{fw:?}");
        } else {
            assert!(failed.is_empty(), "{failed:?}");
            assert!(fw["ads_and_businesses/ads_viewed.json"].contains("not understood"), "{fw:?}");
            assert!(fw["personal_information/personal_information.json"].contains("profile"), "{fw:?}");
        }
        assert!(fw["media/stories/202109/story_n.mp4"].contains("no item read attaches"), "{fw:?}");
        verifies_and_survives_a_folder(&data, &pkg, &t.path().join("out"));
    }
}

#[test]
fn a_linkedin_archive_gives_connections_posts_reactions_comments_and_conversations() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let zip = zip_of(t.path(), "Complete_LinkedInDataExport_02-01-2024.zip", &linkedin::entries());
    let pkg = t.path().join("p.zip");
    let (code, report, out) = export(&data, &format!("archive:{}", zip.display()), &pkg);
    assert_eq!(code, Some(3), "done, with the row that is not UTF-8 failed: {out}");
    let social = by_id(&records(&pkg, "social/social.jsonl"));

    // connections, past the notes: followed accounts by their profile
    let bob = &social["connection:https://www.linkedin.com/in/bob-roe"]["record"];
    assert_eq!(bob["kind"], "following");
    assert_eq!(bob["published"], "2024-01-15T00:00:00Z");
    assert_eq!(bob["options"]["company"], "Acme, Inc.");
    assert!(bob["options"].get("email_address").is_none(), "an empty cell is no option");
    assert_eq!(social["connection:https://www.linkedin.com/in/zoe-lund"]["record"]["options"]["position"], "Leiterin");

    // shares: posts with their link, visibility and what they share
    let role = &social["https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A7150000000000000001"]["record"];
    assert_eq!(role["content"], "New role! \"Excited\"\nto start.");
    assert_eq!(role["visibility"], "private", "MEMBER_NETWORK: connections only");
    assert_eq!(role["published"], "2024-01-10T08:00:00Z");
    assert_eq!(role["activity"]["object"]["attachment"][0]["href"], "https://example.org/news");
    let poster = &social["https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A7050000000000000002"]["record"];
    assert_eq!(poster["visibility"], "public");
    assert_eq!(poster["activity"]["object"]["attachment"][0]["url"], "https://media.licdn.com/dms/image/poster.png");

    // reactions: likes; the row that is not UTF-8 fails alone
    let like = &social["like:https://www.linkedin.com/feed/update/urn:li:activity:7150000000000000009"]["record"];
    assert_eq!((like["kind"].as_str(), like["options"]["reaction"].as_str()), (Some("like"), Some("LIKE")));
    assert!(social.contains_key("like:https://www.linkedin.com/feed/update/urn:li:activity:7150000000000000011"));
    let failed = problems(&report, "social");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed["Reactions.csv#3"].contains("UTF-8"), "the row, by its line: {failed:?}");

    // comments: posts in reply to the post they name
    let comment = social.values().find(|v| v["id"].as_str().unwrap().starts_with("comment:")).unwrap();
    assert_eq!(comment["record"]["content"], "Congratulations Zoë!");
    assert_eq!(comment["record"]["in_reply_to"], "https://www.linkedin.com/feed/update/urn:li:activity:7150000000000000012");
    assert_eq!(social.len(), 7, "2 connections, 2 shares, 2 reactions, 1 comment: {:?}", social.keys().collect::<Vec<_>>());

    // messages: a conversation per id, oldest first, its people with their profiles
    let convs = by_id(&records(&pkg, "conversations/conversations.jsonl"));
    assert_eq!(convs.len(), 2);
    no_mojibake(&convs.values().cloned().collect::<Vec<_>>());
    let abc = &convs["2-abc=="]["record"];
    assert_eq!(abc["platform"], "linkedin");
    let msgs = abc["messages"].as_array().unwrap();
    assert_eq!(msgs[0]["content"][0]["text"], "Are you free next week?");
    assert_eq!(msgs[0]["extra"]["subject"], "Hello");
    assert_eq!(msgs[0]["author"]["id"], "https://www.linkedin.com/in/bob-roe");
    assert_eq!(msgs[1]["content"][0]["text"], "Great, thanks!\nSee you Monday.");
    assert_eq!(msgs[1]["created"], "2024-02-01T10:05:00Z");
    let lunch = &convs["2-xyz=="]["record"];
    assert_eq!(lunch["title"], "Team lunch");
    let people: Vec<&str> = lunch["participants"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(
        people,
        ["https://www.linkedin.com/in/carl-poe", "https://www.linkedin.com/in/ann-lee", "https://www.linkedin.com/in/bob-roe"]
    );

    let fw = warnings(&report, "files");
    assert!(fw["Profile.csv"].contains("profile"), "{fw:?}");
    assert!(fw["Skills.csv"].contains("not understood"), "{fw:?}");
    verifies_and_survives_a_folder(&data, &pkg, &t.path().join("out"));
}

#[test]
fn asking_for_social_only_lists_the_threads_and_keeps_their_media_as_files() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let zip = zip_of(t.path(), "facebook.zip", &facebook::entries(facebook::Variant::Y2024));
    let pkg = t.path().join("only.zip");
    let o = ferry(&data, &["--json", "export", &format!("archive:{}", zip.display()), "--only", "social", "-o", pkg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "the cut thread is not read, so nothing fails: {}", text(&o));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(records(&pkg, "conversations/conversations.jsonl").is_empty());
    assert_eq!(records(&pkg, "social/social.jsonl").len(), 3 + 2 + 3 + 2);
    let skipped = problems(&report, "files");
    let thread = format!("your_facebook_activity/messages/{}/message_1.json", facebook::THREAD);
    assert!(skipped[&thread].contains("not asked for"), "{skipped:?}");
}

#[test]
fn a_thread_split_over_many_files_stays_one_conversation_in_time_order() {
    // 30 files of 3 messages each: message_1 the newest, each newest first
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let mut entries = Vec::new();
    for file in 1..=30u64 {
        let msgs: Vec<Value> = (0..3u64)
            .map(|k| {
                let n = (30 - file) * 3 + (2 - k); // 0 is the oldest message of all
                serde_json::json!({"sender_name": if n % 2 == 0 { "Ann" } else { "Bob" }, "timestamp_ms": 1_600_000_000_000u64 + n * 1000,
                    "content": format!("message {n}")})
            })
            .collect();
        let v = serde_json::json!({"participants": [{"name": "Ann"}, {"name": "Bob"}], "title": "Bob", "messages": msgs});
        entries.push((format!("messages/inbox/bob_1/message_{file}.json"), fixtures::meta_json(&v)));
    }
    let zip = zip_of(t.path(), "messages.zip", &entries);
    let pkg = t.path().join("p.zip");
    let (code, report, out) = export(&data, &format!("archive:{}", zip.display()), &pkg);
    assert_eq!(code, Some(0), "{out}");
    let convs = records(&pkg, "conversations/conversations.jsonl");
    assert_eq!(convs.len(), 1, "{report}");
    let texts: Vec<String> =
        convs[0]["record"]["messages"].as_array().unwrap().iter().map(|m| m["content"][0]["text"].as_str().unwrap().to_owned()).collect();
    let want: Vec<String> = (0..90).map(|n| format!("message {n}")).collect();
    assert_eq!(texts, want, "message_10 after message_9: numbers, not names, order the files");
}

#[test]
fn a_thread_over_the_part_limit_is_handed_in_parts_each_whole() {
    // three files of 22 MiB: the first two (the oldest) make a part, the newest another
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let zip = t.path().join("messages.zip");
    let mut z = Zip::create(&zip);
    // text that does not compress much (a ZIP of a repeated letter is taken for a bomb)
    let noise = |seed: u64| -> String {
        let b = fixtures::photo_bytes(seed, 100 * 1024);
        b.iter().map(|x| char::from(b'a' + x % 26)).collect()
    };
    for file in 1..=3u64 {
        let msgs: Vec<Value> = (0..220u64)
            .rev()
            .map(|k| {
                let n = (3 - file) * 220 + k;
                serde_json::json!({"sender_name": "Ann", "timestamp_ms": 1_600_000_000_000u64 + n * 1000, "content": format!("{n} {}", noise(n))})
            })
            .collect();
        let v = serde_json::json!({"participants": [{"name": "Ann"}, {"name": "Bob"}], "title": "Bob", "messages": msgs});
        z.add(&format!("messages/inbox/big_1/message_{file}.json"), &serde_json::to_vec(&v).unwrap());
    }
    z.finish();
    let pkg = t.path().join("p.zip");
    let (code, report, out) = export(&data, &format!("archive:{}", zip.display()), &pkg);
    assert_eq!(code, Some(0), "{out}");
    let convs = by_id(&records(&pkg, "conversations/conversations.jsonl"));
    assert_eq!(convs.keys().collect::<Vec<_>>(), ["inbox/big_1", "inbox/big_1#2"], "{report}");
    let first = |id: &str| -> Vec<u64> {
        convs[id]["record"]["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["content"][0]["text"].as_str().unwrap().split(' ').next().unwrap().parse().unwrap())
            .collect()
    };
    assert_eq!(first("inbox/big_1"), (0..440).collect::<Vec<_>>(), "the two oldest files, in order");
    assert_eq!(first("inbox/big_1#2"), (440..660).collect::<Vec<_>>());
    let w = warnings(&report, "conversations");
    assert!(w["inbox/big_1"].contains("part 1") && w["inbox/big_1#2"].contains("part 2"), "{w:?}");
}
