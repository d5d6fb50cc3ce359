use super::*;
use serde_json::Value;

fn collect(
    read: impl FnOnce(&mut dyn FnMut(Result<Found, String>) -> bool) -> Result<(), String>,
) -> (Vec<Result<Found, String>>, Result<(), String>) {
    let mut out = Vec::new();
    let r = read(&mut |f| {
        out.push(f);
        true
    });
    (out, r)
}

fn ok(items: &[Result<Found, String>]) -> Vec<&Found> {
    items.iter().filter_map(|f| f.as_ref().ok()).collect()
}

fn txns(items: &[Result<Found, String>]) -> Vec<&Finance> {
    ok(items).into_iter().map(|f| &f.record).filter(|r| r.kind == Kind::Transaction).collect()
}

/// An OFX 1.x file as US and European banks write it: SGML, values not closed, Windows-1252
/// text, a decimal comma, a MEMO broken over two lines, a raw `&`, a PAYEE aggregate, two
/// identical transactions without a FITID, one amount that is no amount.
fn sgml() -> Vec<u8> {
    let mut f = b"OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\nENCODING:USASCII\r\nCHARSET:1252\r\nCOMPRESSION:NONE\r\nOLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n".to_vec();
    f.extend_from_slice(
        b"<OFX>\r\n<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20240201<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1>\r\n\
<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>\r\n<STMTRS><CURDEF>EUR\r\n\
<BANKACCTFROM><BANKID>12030000<ACCTID>1234567890<ACCTTYPE>CHECKING</BANKACCTFROM>\r\n\
<BANKTRANLIST><DTSTART>20240101<DTEND>20240131\r\n\
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240105120000.000[-5:EST]<TRNAMT>-12,50<FITID>F-1<NAME>Caf\xe9 M\xfcller<MEMO>Kartenzahlung\r\nFiliale 12 AT&T &amp; co</STMTTRN>\r\n\
<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20240110<DTAVAIL>20240111<TRNAMT>1500.00<FITID>F-2<CHECKNUM>0042<PAYEE><NAME>Arbeitgeber GmbH<ADDR1>Hauptstr. 1</PAYEE><BANKACCTTO><BANKID>10010010<ACCTID>DE02100100100006820101<ACCTTYPE>CHECKING</BANKACCTTO><MEMO>Gehalt</STMTTRN>\r\n\
<STMTTRN><TRNTYPE>POS<DTPOSTED>20240112<TRNAMT>-3.20<NAME>Bakery</STMTTRN>\r\n\
<STMTTRN><TRNTYPE>POS<DTPOSTED>20240112<TRNAMT>-3.20<NAME>Bakery</STMTTRN>\r\n\
<STMTTRN><TRNTYPE>FEE<DTPOSTED>20240115<TRNAMT>abc<FITID>F-3</STMTTRN>\r\n\
</BANKTRANLIST><LEDGERBAL><BALAMT>1234,56<DTASOF>20240131</LEDGERBAL><AVAILBAL><BALAMT>1200.00<DTASOF>20240131</AVAILBAL>\r\n\
</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\r\n",
    );
    f
}

#[test]
fn ofx_1_sgml_as_banks_write_it() {
    let (items, r) = collect(|e| read_ofx(&sgml()[..], e));
    r.unwrap();
    let t = txns(&items);
    assert_eq!(t.len(), 4);
    assert_eq!(t[0].amount.as_deref(), Some("-12.50"));
    assert_eq!(t[0].date, NaiveDate::from_ymd_opt(2024, 1, 5));
    assert_eq!(t[0].time.unwrap().to_rfc3339(), "2024-01-05T12:00:00-05:00");
    assert_eq!(t[0].counterparty.as_deref(), Some("Café Müller"), "Windows-1252, as the header says");
    assert_eq!(t[0].description.as_deref(), Some("Kartenzahlung Filiale 12 AT&T & co"));
    assert_eq!(
        (t[0].currency.as_deref(), t[0].account.as_deref(), t[0].bank.as_deref()),
        (Some("EUR"), Some("1234567890"), Some("12030000"))
    );
    assert_eq!((t[0].transaction_id.as_deref(), t[0].transaction_type.as_deref()), (Some("F-1"), Some("DEBIT")));
    assert_eq!(
        (t[1].counterparty.as_deref(), t[1].counterparty_account.as_deref()),
        (Some("Arbeitgeber GmbH"), Some("DE02100100100006820101"))
    );
    assert_eq!((t[1].value_date, t[1].extra.get("CHECKNUM").map(String::as_str)), (NaiveDate::from_ymd_opt(2024, 1, 11), Some("0042")));
    assert_eq!(t[1].extra["PAYEE/ADDR1"], "Hauptstr. 1");
    // two alike, without a FITID: two items, ids by their rank
    let found = ok(&items);
    assert_eq!(found[0].id, "1234567890/F-1");
    assert_eq!(found[3].id, format!("{}#2", found[2].id));
    // an amount that is none: an error of its own, reading went on
    let errors: Vec<&String> = items.iter().filter_map(|f| f.as_ref().err()).collect();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].contains("F-3") && errors[0].contains("abc"), "{}", errors[0]);
    // the account comes at the statement's end
    let a = &found.last().unwrap().record;
    assert_eq!((a.kind, a.balance.as_deref(), a.date), (Kind::Account, Some("1234.56"), NaiveDate::from_ymd_opt(2024, 1, 31)));
    assert_eq!((a.period_start, a.period_end), (NaiveDate::from_ymd_opt(2024, 1, 1), NaiveDate::from_ymd_opt(2024, 1, 31)));
    assert_eq!(a.extra["AVAILBAL/BALAMT"], "1200.00");
    assert_eq!((found.last().unwrap().id.as_str(), found.last().unwrap().container.as_str()), ("1234567890", "1234567890"));
}

const QFX: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<?OFX OFXHEADER="200" VERSION="211" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>
<!-- a card statement, as Quicken's QFX -->
<OFX>
  <SIGNONMSGSRSV1><SONRS><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS><DTSERVER>20240301</DTSERVER><LANGUAGE>ENG</LANGUAGE><INTU.BID>3000</INTU.BID></SONRS></SIGNONMSGSRSV1>
  <CREDITCARDMSGSRSV1><CCSTMTTRNRS><TRNUID>0</TRNUID><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>
    <CCSTMTRS><CURDEF>USD</CURDEF><CCACCTFROM><ACCTID>4111111111111111</ACCTID></CCACCTFROM>
      <BANKTRANLIST><DTSTART>20240201</DTSTART><DTEND>20240229</DTEND>
        <STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20240214083000[+1:CET]</DTPOSTED><TRNAMT>-42.00</TRNAMT><FITID>2024021401</FITID><NAME>Blumen &amp; Söhne</NAME><MEMO/></STMTTRN>
        <STMTTRN><TRNTYPE>CREDIT</TRNTYPE><DTPOSTED>20240220</DTPOSTED><TRNAMT>+100</TRNAMT><FITID>2024022001</FITID><NAME>Payment - Thank You</NAME><CURRENCY><CURRATE>1.0</CURRATE><CURSYM>USD</CURSYM></CURRENCY></STMTTRN>
      </BANKTRANLIST>
      <LEDGERBAL><BALAMT>-512.34</BALAMT><DTASOF>20240229120000</DTASOF></LEDGERBAL>
    </CCSTMTRS></CCSTMTTRNRS></CREDITCARDMSGSRSV1>
</OFX>
"#;

#[test]
fn ofx_2_xml_and_a_card_statement() {
    let (items, r) = collect(|e| read_ofx(QFX.as_bytes(), e));
    r.unwrap();
    let t = txns(&items);
    assert_eq!(t.len(), 2);
    assert_eq!((t[0].counterparty.as_deref(), t[0].description.as_deref()), (Some("Blumen & Söhne"), None));
    assert_eq!(t[0].time.unwrap().to_rfc3339(), "2024-02-14T08:30:00+01:00");
    assert_eq!((t[1].amount.as_deref(), t[1].currency.as_deref()), (Some("100"), Some("USD")));
    assert_eq!(t[0].account_type.as_deref(), Some("CREDITCARD"));
    let a = &ok(&items)[2].record;
    assert_eq!(
        (a.account.as_deref(), a.balance.as_deref(), a.account_type.as_deref()),
        (Some("4111111111111111"), Some("-512.34"), Some("CREDITCARD"))
    );
}

#[test]
fn broken_and_hostile_ofx() {
    // cut short: what came before is read, then the file fails
    let full = sgml();
    let cut = &full[..full.windows(9).position(|w| w == b"<STMTTRN>").unwrap() + 200];
    let (items, r) = collect(|e| read_ofx(cut, e));
    assert_eq!(txns(&items).len(), 1);
    assert!(r.unwrap_err().contains("cut short"));
    for (bytes, says) in [
        (&b""[..], "empty"),
        (b"Date,Amount\n2024-01-01,5\n", "not an OFX file"),
        (b"HELLO WORLD\n<html>", "not an OFX file"),
        (b"<html><body>hi</body></html>", "no <OFX>"),
    ] {
        let (_, r) = collect(|e| read_ofx(bytes, e));
        assert!(r.as_ref().unwrap_err().contains(says), "{says}: {r:?}");
    }
    let long_tag = format!("<OFX><{}>", "A".repeat(5000));
    assert!(collect(|e| read_ofx(long_tag.as_bytes(), e)).1.unwrap_err().contains("longer than"));
    let long_value = format!("<OFX><MEMO>{}", "x".repeat(MAX_FILE));
    assert!(collect(|e| read_ofx(long_value.as_bytes(), e)).1.unwrap_err().contains("longer than"));
    let deep = format!("<OFX>{}", "<A>".repeat(100));
    assert!(collect(|e| read_ofx(deep.as_bytes(), e)).1.unwrap_err().contains("deeper"));
    // investment statements are said, once, not read
    let inv =
        "<OFX><INVSTMTMSGSRSV1><INVSTMTTRNRS><INVSTMTRS><INVTRANLIST></INVTRANLIST></INVSTMTRS></INVSTMTTRNRS></INVSTMTMSGSRSV1></OFX>";
    let (items, r) = collect(|e| read_ofx(inv.as_bytes(), e));
    r.unwrap();
    assert!(items[0].as_ref().unwrap_err().contains("investment"));
    // an XML file's entities: XML's own only; a DOCTYPE is not read
    let laughs = "<?xml version=\"1.0\"?><!DOCTYPE OFX [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]><OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>EUR</CURDEF><BANKACCTFROM><BANKID>1</BANKID><ACCTID>2</ACCTID><ACCTTYPE>CHECKING</ACCTTYPE></BANKACCTFROM><BANKTRANLIST><STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20240101</DTPOSTED><TRNAMT>-1</TRNAMT><FITID>1</FITID><NAME>&b;</NAME></STMTTRN></BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>";
    let (items, r) = collect(|e| read_ofx(laughs.as_bytes(), e));
    r.unwrap();
    assert_eq!(txns(&items)[0].counterparty.as_deref(), Some("&b;"));
}

const CAMT_02: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2024-02-01T06:00:00</CreDtTm></GrpHdr>
  <Stmt>
   <Id>STMT-2024-01</Id><CreDtTm>2024-02-01T06:00:00+01:00</CreDtTm>
   <FrToDt><FrDtTm>2024-01-01T00:00:00</FrDtTm><ToDtTm>2024-01-31T23:59:59</ToDtTm></FrToDt>
   <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy><Ownr><Nm>Erika Mustermann</Nm></Ownr><Svcr><FinInstnId><BIC>COBADEFFXXX</BIC></FinInstnId></Svcr></Acct>
   <Bal><Tp><CdOrPrtry><Cd>PRCD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2023-12-31</Dt></Dt></Bal>
   <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">25.30</Amt><CdtDbtInd>DBIT</CdtDbtInd><Dt><Dt>2024-01-31</Dt></Dt></Bal>
   <Ntry>
    <Amt Ccy="EUR">85.20</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>
    <BookgDt><Dt>2024-01-03</Dt></BookgDt><ValDt><Dt>2024-01-04</Dt></ValDt>
    <AcctSvcrRef>2024010300001</AcctSvcrRef>
    <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn><Prtry><Cd>NTRF+116+9310</Cd><Issr>DK</Issr></Prtry></BkTxCd>
    <NtryDtls><TxDtls>
     <Refs><EndToEndId>NOTPROVIDED</EndToEndId><MndtId>M-77</MndtId></Refs>
     <RltdPties><Dbtr><Nm>Erika Mustermann</Nm></Dbtr><Cdtr><Nm>Stadtwerke &amp; Co</Nm></Cdtr><CdtrAcct><Id><IBAN>DE02120300000000202051</IBAN></Id></CdtrAcct></RltdPties>
     <RmtInf><Ustrd>Abschlag Strom</Ustrd><Ustrd>Januar 2024</Ustrd></RmtInf>
    </TxDtls></NtryDtls>
    <AddtlNtryInf>Ueberweisung</AddtlNtryInf>
   </Ntry>
   <Ntry>
    <Amt Ccy="EUR">30.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2024-01-10</Dt></BookgDt>
    <AcctSvcrRef>2024011000002</AcctSvcrRef>
    <NtryDtls><Btch><NbOfTxs>2</NbOfTxs></Btch>
     <TxDtls><AmtDtls><TxAmt><Amt Ccy="EUR">10.00</Amt></TxAmt></AmtDtls><RltdPties><Dbtr><Nm>Anna</Nm></Dbtr></RltdPties><RmtInf><Ustrd>Geschenk</Ustrd></RmtInf></TxDtls>
     <TxDtls><AmtDtls><TxAmt><Amt Ccy="EUR">20.00</Amt></TxAmt></AmtDtls><RltdPties><Dbtr><Nm>Ben</Nm></Dbtr></RltdPties></TxDtls>
    </NtryDtls>
   </Ntry>
   <Ntry><Amt Ccy="EUR">1,5</Amt><CdtDbtInd>DBIT</CdtDbtInd><AcctSvcrRef>BAD-1</AcctSvcrRef></Ntry>
  </Stmt>
  <Stmt>
   <Id>STMT-2024-01-B</Id>
   <Acct><Id><Othr><Id>0532013001</Id></Othr></Id></Acct>
   <Ntry><Amt Ccy="CHF">5.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><BookgDt><DtTm>2024-01-05T10:15:00+01:00</DtTm></BookgDt><AddtlNtryInf>Gebuehr</AddtlNtryInf></Ntry>
  </Stmt>
 </BkToCstmrStmt>
</Document>
"#;

#[test]
fn camt_053_version_02_with_two_statements_and_a_batch() {
    let (items, r) = collect(|e| read_camt053(CAMT_02.as_bytes(), e));
    r.unwrap();
    let found = ok(&items);
    let t = txns(&items);
    assert_eq!(t.len(), 4, "{t:#?}");
    let power = t[0];
    assert_eq!((power.amount.as_deref(), power.currency.as_deref()), (Some("-85.20"), Some("EUR")));
    assert_eq!((power.date, power.value_date), (NaiveDate::from_ymd_opt(2024, 1, 3), NaiveDate::from_ymd_opt(2024, 1, 4)));
    assert_eq!(power.counterparty.as_deref(), Some("Stadtwerke & Co"), "a debit's counterparty is its creditor");
    assert_eq!(power.counterparty_account.as_deref(), Some("DE02120300000000202051"));
    assert_eq!(power.description.as_deref(), Some("Abschlag Strom Januar 2024"));
    assert_eq!(power.transaction_id.as_deref(), Some("2024010300001"));
    assert_eq!(power.transaction_type.as_deref(), Some("PMNT/ICDT/ESCT"));
    assert_eq!(power.extra["NtryDtls/TxDtls/Refs/EndToEndId"], "NOTPROVIDED");
    assert_eq!(power.extra["BkTxCd/Prtry/Cd"], "NTRF+116+9310");
    assert_eq!(power.extra["AddtlNtryInf"], "Ueberweisung");
    assert_eq!(power.account.as_deref(), Some("DE89370400440532013000"));
    assert_eq!(found[0].id, "DE89370400440532013000/2024010300001");
    // a batch of two, each with its amount: two items
    assert_eq!(
        (t[1].amount.as_deref(), t[1].counterparty.as_deref(), t[1].description.as_deref()),
        (Some("10.00"), Some("Anna"), Some("Geschenk"))
    );
    assert_eq!((t[2].amount.as_deref(), t[2].counterparty.as_deref()), (Some("20.00"), Some("Ben")));
    assert_ne!(found[1].id, found[2].id);
    // an amount ISO 20022 would not write: an error of its own
    assert!(items.iter().any(|f| f.as_ref().is_err_and(|e| e.contains("BAD-1"))));
    // the first statement's account, with its closing balance, then the second's
    let accounts: Vec<&Finance> = found.iter().map(|f| &f.record).filter(|r| r.kind == Kind::Account).collect();
    assert_eq!(accounts.len(), 2);
    assert_eq!((accounts[0].balance.as_deref(), accounts[0].date), (Some("-25.30"), NaiveDate::from_ymd_opt(2024, 1, 31)));
    assert_eq!((accounts[0].bank.as_deref(), accounts[0].currency.as_deref()), (Some("COBADEFFXXX"), Some("EUR")));
    assert_eq!(accounts[0].extra["Bal/PRCD"], "100.00 2023-12-31");
    assert_eq!(
        (accounts[0].period_start, accounts[0].period_end),
        (NaiveDate::from_ymd_opt(2024, 1, 1), NaiveDate::from_ymd_opt(2024, 1, 31))
    );
    assert_eq!(accounts[0].extra["Acct/Ownr/Nm"], "Erika Mustermann");
    assert_eq!(accounts[1].account.as_deref(), Some("0532013001"));
    let fee = t[3];
    assert_eq!((fee.amount.as_deref(), fee.currency.as_deref(), fee.description.as_deref()), (Some("-5.00"), Some("CHF"), Some("Gebuehr")));
    assert_eq!(fee.time.unwrap().to_rfc3339(), "2024-01-05T10:15:00+01:00");
}

#[test]
fn camt_053_version_08_with_prefixes_parties_and_status_codes() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<ns:Document xmlns:ns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><ns:BkToCstmrStmt><ns:GrpHdr><ns:MsgId>1</ns:MsgId></ns:GrpHdr>
<ns:Stmt><ns:Acct><ns:Id><ns:IBAN>CH9300762011623852957</ns:IBAN></ns:Id><ns:Svcr><ns:FinInstnId><ns:BICFI>UBSWCHZH80A</ns:BICFI></ns:FinInstnId></ns:Svcr></ns:Acct>
<ns:Ntry><ns:Amt Ccy="CHF">1200.00</ns:Amt><ns:CdtDbtInd>CRDT</ns:CdtDbtInd><ns:Sts><ns:Cd>PDNG</ns:Cd></ns:Sts><ns:BookgDt><ns:Dt>2024-03-01</ns:Dt></ns:BookgDt>
<ns:NtryDtls><ns:TxDtls><ns:Amt Ccy="CHF">1200.00</ns:Amt><ns:RltdPties><ns:Dbtr><ns:Pty><ns:Nm>Muster AG</ns:Nm></ns:Pty></ns:Dbtr><ns:DbtrAcct><ns:Id><ns:IBAN>CH5604835012345678009</ns:IBAN></ns:Id></ns:DbtrAcct></ns:RltdPties></ns:TxDtls></ns:NtryDtls></ns:Ntry>
</ns:Stmt></ns:BkToCstmrStmt></ns:Document>"#;
    let (items, r) = collect(|e| read_camt053(xml.as_bytes(), e));
    r.unwrap();
    let t = txns(&items)[0];
    assert_eq!((t.counterparty.as_deref(), t.counterparty_account.as_deref()), (Some("Muster AG"), Some("CH5604835012345678009")));
    assert_eq!(t.extra["Sts/Cd"], "PDNG", "a pending entry says so");
    assert_eq!(ok(&items)[1].record.bank.as_deref(), Some("UBSWCHZH80A"));
}

#[test]
fn broken_and_hostile_camt() {
    for (xml, says) in [
        ("<Document><pain.001/></Document>", "not a camt.053"),
        ("<Other/>", "not a camt.053"),
        ("", "no <Document>"),
        ("<Document><BkToCstmrStmt><Stmt><Ntry>", "cut short"),
    ] {
        assert!(collect(|e| read_camt053(xml.as_bytes(), e)).1.unwrap_err().contains(says), "{xml}");
    }
    // entities declared in a DOCTYPE are never expanded
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE Document [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<Document><BkToCstmrStmt><Stmt><Acct><Id><IBAN>X</IBAN></Id></Acct><Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><AddtlNtryInf>&c;</AddtlNtryInf></Ntry></Stmt></BkToCstmrStmt></Document>"#;
    let (items, r) = collect(|e| read_camt053(laughs.as_bytes(), e));
    r.unwrap();
    assert_eq!(txns(&items)[0].description.as_deref(), Some("&c;"));
    // an entry over its bound is an error of its own
    let limits = crate::xml::Limits { element: 4096, ..Default::default() };
    let big = format!(
        "<Document><BkToCstmrStmt><Stmt><Acct><Id><IBAN>X</IBAN></Id></Acct><Ntry><Amt Ccy=\"EUR\">1.00</Amt>{}</Ntry><Ntry><Amt Ccy=\"EUR\">2.00</Amt><CdtDbtInd>CRDT</CdtDbtInd></Ntry></Stmt></BkToCstmrStmt></Document>",
        "<AddtlNtryInf>xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx</AddtlNtryInf>".repeat(200)
    );
    let (items, r) = collect(|e| camt::read_with(big.as_bytes(), limits, e));
    r.unwrap();
    assert!(items[0].as_ref().unwrap_err().contains("larger than"));
    assert_eq!(txns(&items)[0].amount.as_deref(), Some("2.00"));
}

#[test]
fn a_sparkasse_csv_in_windows_1252() {
    // CSV-CAMT as the Sparkassen give it: `;`, every field quoted, two-digit years, the
    // decimal comma with points between thousands, Windows-1252, a quoted `;` and line end
    let mut csv = b"\"Auftragskonto\";\"Buchungstag\";\"Valutadatum\";\"Buchungstext\";\"Verwendungszweck\";\"Glaeubiger ID\";\"Mandatsreferenz\";\"Kundenreferenz (End-to-End)\";\"Sammlerreferenz\";\"Lastschrift Ursprungsbetrag\";\"Auslagenersatz Ruecklastschrift\";\"Beguenstigter/Zahlungspflichtiger\";\"Kontonummer/IBAN\";\"BIC (SWIFT-Code)\";\"Betrag\";\"Waehrung\";\"Info\"\r\n".to_vec();
    csv.extend_from_slice(b"\"DE89370400440532013000\";\"05.01.24\";\"05.01.24\";\"FOLGELASTSCHRIFT\";\"Beitrag; Januar\r\nMitglied 7\";\"DE98ZZZ09999999999\";\"M-1\";\"E2E-1\";\"\";\"\";\"\";\"Sportverein M\xfcnchen e.V.\";\"DE02 1203 0000 0000 2020 51\";\"BYLADEM1001\";\"-1.234,56\";\"EUR\";\"Umsatz gebucht\"\r\n");
    csv.extend_from_slice(b"\"DE89370400440532013000\";\"06.01.24\";\"06.01.24\";\"GUTSCHR. UEBERWEISUNG\";\"Miete\";\"\";\"\";\"\";\"\";\"\";\"\";\"Max M\xfcller\";\"DE02100100100006820101\";\"PBNKDEFF\";\"850,00\";\"EUR\";\"Umsatz vorgemerkt\"\r\n");
    let (items, r) = collect(|e| read_bank_csv(&csv[..], e));
    r.unwrap();
    let t = txns(&items);
    assert_eq!(t.len(), 2, "{items:?}");
    assert_eq!((t[0].amount.as_deref(), t[0].currency.as_deref()), (Some("-1234.56"), Some("EUR")));
    assert_eq!((t[0].date, t[0].value_date), (NaiveDate::from_ymd_opt(2024, 1, 5), NaiveDate::from_ymd_opt(2024, 1, 5)));
    assert_eq!(t[0].counterparty.as_deref(), Some("Sportverein München e.V."));
    assert_eq!(t[0].counterparty_account.as_deref(), Some("DE02120300000000202051"));
    assert_eq!(t[0].description.as_deref(), Some("Beitrag; Januar\r\nMitglied 7"));
    assert_eq!((t[0].account.as_deref(), t[0].transaction_type.as_deref()), (Some("DE89370400440532013000"), Some("FOLGELASTSCHRIFT")));
    // the columns the table does not know are kept under their names
    assert_eq!(t[0].extra["Glaeubiger ID"], "DE98ZZZ09999999999");
    assert_eq!(t[0].extra["Kundenreferenz (End-to-End)"], "E2E-1");
    assert_eq!(t[0].extra["BIC (SWIFT-Code)"], "BYLADEM1001");
    assert_eq!(t[1].extra["Info"], "Umsatz vorgemerkt");
    assert_eq!(ok(&items)[0].container, "DE89370400440532013000");
}

#[test]
fn a_dkb_csv_with_lines_before_its_header_and_a_bom() {
    let csv = "\u{feff}\"Kontonummer:\";\"DE12 1203 0000 1234 5678 90 / Girokonto\";\n\n\"Von:\";\"01.01.2024\";\n\"Bis:\";\"31.01.2024\";\n\"Kontostand vom 31.01.2024:\";\"2.345,67 EUR\";\n\n\
\"Buchungstag\";\"Wertstellung\";\"Buchungstext\";\"Auftraggeber / Begünstigter\";\"Verwendungszweck\";\"Kontonummer\";\"BLZ\";\"Betrag (EUR)\";\"Gläubiger-ID\";\"Mandatsreferenz\";\"Kundenreferenz\";\n\
\"02.01.2024\";\"02.01.2024\";\"Lastschrift\";\"Telekom\";\"Rechnung 123\";\"DE44500105175407324931\";\"INGDDEFFXXX\";\"-39,95\";\"DE123\";\"M-9\";\"\";\n\
\"03.01.2024\";\"03.01.2024\";\"Gutschrift\";\"Erstattung\";\"\";\"\";\"\";\"1.000\";\"\";\"\";\"\";\n";
    let (items, r) = collect(|e| read_bank_csv(csv.as_bytes(), e));
    r.unwrap();
    let found = ok(&items);
    // the lines before the header: an account item, nothing dropped
    let a = &found[0].record;
    assert_eq!(a.kind, Kind::Account);
    assert_eq!((a.account.as_deref(), a.account_name.as_deref()), (Some("DE12120300001234567890"), Some("Girokonto")));
    assert_eq!(a.extra["Von"], "01.01.2024");
    assert_eq!(a.extra["Kontostand vom 31.01.2024"], "2.345,67 EUR");
    let t = txns(&items);
    assert_eq!((t[0].amount.as_deref(), t[0].currency.as_deref()), (Some("-39.95"), Some("EUR")), "the currency from `Betrag (EUR)`");
    assert_eq!((t[0].counterparty.as_deref(), t[0].counterparty_account.as_deref()), (Some("Telekom"), Some("DE44500105175407324931")));
    assert_eq!(t[0].extra["BLZ"], "INGDDEFFXXX");
    assert_eq!(t[0].extra["Gläubiger-ID"], "DE123");
    assert_eq!(t[1].amount.as_deref(), Some("1000"), "a German file's `1.000` is a thousand");
    assert_eq!(t[0].account, a.account, "the preamble's account is the transactions'");
}

#[test]
fn english_csvs_with_debit_and_credit_columns_or_sign_marks() {
    // US: month first (the 13th shows it), a BOM, comma separator, grouped thousands
    let us = "\u{feff}Date,Description,Debit,Credit,Balance,Category,Memo Extra\n01/13/2024,COFFEE SHOP,4.50,,\"1,995.50\",Dining,x\n01/14/2024,PAYROLL,,\"2,000.00\",\"3,995.50\",Income,\n01/15/2024,COFFEE SHOP,4.50,,\"3,991.00\",Dining,\n";
    let (items, r) = collect(|e| read_bank_csv(us.as_bytes(), e));
    r.unwrap();
    let t = txns(&items);
    assert_eq!(t[0].date, NaiveDate::from_ymd_opt(2024, 1, 13));
    assert_eq!(
        (t[0].amount.as_deref(), t[0].balance.as_deref(), t[0].category.as_deref()),
        (Some("-4.50"), Some("1995.50"), Some("Dining"))
    );
    assert_eq!(t[1].amount.as_deref(), Some("2000.00"));
    assert_eq!(t[0].extra["Memo Extra"], "x");
    assert_ne!(ok(&items)[0].id, ok(&items)[2].id, "their balances tell two coffees apart");
    // Volksbank: a `Soll/Haben` column
    let vb = "Buchungstag;Valuta;Empfänger;Verwendungszweck;Umsatz;Soll/Haben;Whrg\n31.01.2024;31.01.2024;Bäckerei;Brot;12,50;S;EUR\n31.01.2024;31.01.2024;Chef;Lohn;2.000,00;H;EUR\n";
    let (items, r) = collect(|e| read_bank_csv(vb.as_bytes(), e));
    r.unwrap();
    let t = txns(&items);
    assert_eq!((t[0].amount.as_deref(), t[1].amount.as_deref()), (Some("-12.50"), Some("2000.00")));
    // ING: two `Währung` columns, the first the balance's
    let ing = "Umsatzanzeige;Datei erstellt am: 01.02.2024 10:00\nIBAN;DE10 5001 0517 0000 1234 56\n\nBuchung;Valuta;Auftraggeber/Empfänger;Buchungstext;Verwendungszweck;Saldo;Währung;Betrag;Währung\n15.01.2024;15.01.2024;Amazon;Lastschrift;Bestellung;1.234,56;EUR;-19,99;EUR\n";
    let (items, r) = collect(|e| read_bank_csv(ing.as_bytes(), e));
    r.unwrap();
    let t = txns(&items);
    assert_eq!((t[0].amount.as_deref(), t[0].balance.as_deref(), t[0].currency.as_deref()), (Some("-19.99"), Some("1234.56"), Some("EUR")));
    assert_eq!(t[0].extra["Währung (balance)"], "EUR");
    assert_eq!(t[0].account.as_deref(), Some("DE10500105170000123456"));
    // day first shown by the 25th; undecided dates are read day first, and said
    let uk = "Date,Description,Amount\n25/01/2024,Tesco,-10.00\n02/01/2024,Boots,-5.00\n";
    let t = collect(|e| read_bank_csv(uk.as_bytes(), e)).0;
    assert_eq!(txns(&t)[1].date, NaiveDate::from_ymd_opt(2024, 1, 2));
    let undecided = "Date,Description,Amount\n02/01/2024,Boots,-5.00\n";
    let t = collect(|e| read_bank_csv(undecided.as_bytes(), e)).0;
    assert!(ok(&t)[0].warnings.iter().any(|w| w.contains("day first")));
}

#[test]
fn broken_and_hostile_csvs() {
    let (_, r) = collect(|e| read_bank_csv("just,some,words\n1,2,3\n".as_bytes(), e));
    assert!(r.unwrap_err().contains("names a date column and an amount column"));
    let (_, r) = collect(|e| read_bank_csv(&b"Date,Amount\x00\x01"[..], e));
    assert!(r.unwrap_err().contains("NUL"));
    let (_, r) = collect(|e| read_bank_csv("Date,Amount\n01/13/2024,1\n13/01/2024,2\n".as_bytes(), e));
    assert!(r.unwrap_err().contains("both day first and month first"));
    // a footer, a date that is none, an amount that is none: errors of their own
    let csv = "Date;Amount;Text\n2024-01-01;5,00;a\n;;Summe\n2024-13-45;1,00;b\n2024-01-02;zwölf;c\n\n2024-01-03;-1,00;d\n";
    let (items, r) = collect(|e| read_bank_csv(csv.as_bytes(), e));
    r.unwrap();
    let errors: Vec<&String> = items.iter().filter_map(|f| f.as_ref().err()).collect();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors[0].contains("line 3") && errors[0].contains("Summe"), "{}", errors[0]);
    assert!(errors[1].contains("not a date") && errors[2].contains("zwölf"), "{errors:?}");
    assert_eq!(txns(&items).len(), 2);
    // one row over its bound fails the file (after what came before)
    let long = format!("Date,Amount,Text\n2024-01-01,1,a\n2024-01-02,2,\"{}\"\n", "x".repeat(5000));
    let (items, r) = collect(|e| bank_csv::read_with(long.as_bytes(), 1024, e));
    assert_eq!(txns(&items).len(), 1);
    assert!(r.unwrap_err().contains("longer than 1024"));
    // `each` stops the reading
    let mut n = 0;
    read_bank_csv("Date,Amount\n2024-01-01,1\n2024-01-02,2\n2024-01-03,3\n".as_bytes(), &mut |_| {
        n += 1;
        false
    })
    .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn a_large_csv_streams() {
    /// A CSV made as it is read.
    struct Rows(usize, Vec<u8>, usize);
    impl std::io::Read for Rows {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.2 == self.1.len() {
                self.1.clear();
                self.2 = 0;
                match self.0 {
                    0 => return Ok(0),
                    n => self.1.extend_from_slice(format!("2024-01-{:02},-{}.{:02},row {n}\n", n % 28 + 1, n % 1000, n % 100).as_bytes()),
                }
                self.0 -= 1;
            }
            let n = buf.len().min(self.1.len() - self.2);
            buf[..n].copy_from_slice(&self.1[self.2..self.2 + n]);
            self.2 += n;
            Ok(n)
        }
    }
    let mut n = 0;
    let input = std::io::Read::chain(std::io::Cursor::new(b"Date,Amount,Description\n".to_vec()), Rows(100_000, Vec::new(), 0));
    read_bank_csv(input, &mut |f| {
        assert!(f.is_ok(), "{f:?}");
        n += 1;
        true
    })
    .unwrap();
    assert_eq!(n, 100_000);
}

#[test]
fn an_items_ofx_reads_back_and_says_what_it_cannot_hold() {
    let (items, _) = collect(|e| read_camt053(CAMT_02.as_bytes(), e));
    for f in ok(&items) {
        let item = f.clone().into_item();
        let std = write(&item).unwrap();
        let back = Finance::of(&read("finance/DE89/x.ofx", &f.container, std.text.as_bytes()).unwrap()).unwrap();
        let r = &f.record;
        assert_eq!((back.kind, &back.account, &back.amount, back.date), (r.kind, &r.account, &r.amount, r.date), "{}", std.text);
        if r.kind == Kind::Transaction {
            assert_eq!((&back.counterparty, &back.description, back.value_date), (&r.counterparty, &r.description, r.value_date));
            // without the bank's id, the OFX's FITID is ferry's id of the item
            assert_eq!(back.transaction_id.as_ref(), Some(r.transaction_id.as_ref().unwrap_or(&f.id)));
            if r.counterparty_account.is_some() {
                assert!(std.warnings.iter().any(|w| w.starts_with("counterparty_account")), "{:?}", std.warnings);
            }
            assert!(
                std.warnings.iter().any(|w| w.starts_with("NtryDtls/TxDtls/Refs/EndToEndId")
                    || w.starts_with("batch")
                    || w.starts_with("AddtlNtryInf")
                    || r.extra.is_empty()),
                "{:?}",
                std.warnings
            );
        } else {
            assert_eq!(back.balance, r.balance);
        }
    }
    let long = Finance {
        counterparty: Some("A name longer than thirty-two characters, surely".into()),
        amount: Some("1".into()),
        category: Some("Food".into()),
        ..Default::default()
    };
    let found = Found { id: "x".into(), container: "".into(), record: long, files: vec![], warnings: vec![] };
    let std = write(&found.into_item()).unwrap();
    assert!(std.text.contains("<NAME>A name longer than thirty-two ch</NAME>"), "{}", std.text);
    assert!(std.warnings.iter().any(|w| w.contains("32")) && std.warnings.iter().any(|w| w.starts_with("category")));
    // a statement of several transactions is not one item
    let e = read("finance/a.ofx", "", QFX.as_bytes()).unwrap_err();
    assert!(e.reason.contains("2 transactions"), "{}", e.reason);
    assert!(read("finance/a.ofx", "", &sgml()).unwrap_err().reason.contains("abc"), "a statement with a transaction it cannot read");
    let f = |rel: &'static str| DirFile { rel, name: rel.rsplit('/').next().unwrap(), head: b"" };
    assert!(recognises(&f("finance/DE89/a.ofx")) && recognises(&f("finance/b.QFX")) && !recognises(&f("finance/a.csv")));
}

#[test]
fn an_accounts_package_file_is_one_ofx_statement_that_reads_back() {
    let (items, _) = collect(|e| read_ofx(&sgml()[..], e));
    let found: Vec<Found> = ok(&items).into_iter().cloned().collect();
    let records: Vec<(String, Record)> = found.iter().map(|f| (f.id.clone(), f.clone().into_item().record)).collect();
    let frame = &ofx_write::STATEMENT;
    let mut gathered = Value::Null;
    for (_, r) in &records {
        (frame.gather.unwrap())(&mut gathered, r);
    }
    let mut text = (frame.head)("1234567890", &gathered);
    for (id, r) in &records {
        if let Some(p) = (frame.part)(id, r) {
            text.push_str(&p);
        }
    }
    text.push_str(&(frame.tail)("1234567890", &gathered));
    let (back, r) = collect(|e| read_ofx(text.as_bytes(), e));
    r.unwrap();
    let (a, b) = (txns(&items), txns(&back));
    assert_eq!(b.len(), a.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(
            (&x.amount, x.date, &x.counterparty, &x.transaction_type, &x.currency),
            (&y.amount, y.date, &y.counterparty, &y.transaction_type, &y.currency)
        );
        assert_eq!(x.time.map(|t| t.timestamp()), y.time.map(|t| t.timestamp()));
    }
    let account = ok(&back).last().unwrap().record.clone();
    assert_eq!(
        (account.balance.as_deref(), account.bank.as_deref(), account.account_type.as_deref()),
        (Some("1234.56"), Some("12030000"), Some("CHECKING"))
    );
    assert_eq!((account.period_start, account.period_end), (NaiveDate::from_ymd_opt(2024, 1, 1), NaiveDate::from_ymd_opt(2024, 1, 31)));
    assert!(text.starts_with("<?xml") && text.contains("<?OFX OFXHEADER=\"200\" VERSION=\"220\""));
    assert!(matches!(DEF.standard.unwrap().per, Per::Framed(_)));
}

#[test]
fn the_csv_table_has_a_row_per_transaction() {
    let (items, _) = collect(|e| read_camt053(CAMT_02.as_bytes(), e));
    let rows: Vec<String> = ok(&items).into_iter().flat_map(|f| (TABLES[0].rows)(&f.clone().into_item().record)).collect();
    assert_eq!(rows.len(), 4, "accounts have no row");
    assert_eq!(
        rows[0],
        "2024-01-03,2024-01-04,DE89370400440532013000,-85.20,EUR,Stadtwerke & Co,DE02120300000000202051,Abschlag Strom Januar 2024,,,2024010300001,PMNT/ICDT/ESCT\n"
    );
    assert_eq!(TABLES[0].header.matches(',').count(), rows[0].matches(',').count());
}
