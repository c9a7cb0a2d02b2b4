//! A real endpoint mapper's answer, not our fixture's: the `ept_lookup` response of an Exchange
//! server in `../shared/real/exchange-mapi.pcap` (Zeek's test trace; SOURCES.md there), read
//! by rpcaudit's wire layer and `to_endpoint`, checked field for field against tshark's
//! dissection and impacket's EPM structures, both independent of this code. Its tower has a
//! fifth floor (protocol 0x20 holding an IPv4 address) that the binding does not read: it is
//! kept, named as impacket names it, and warned about.

mod support;

use rpcaudit::audit::capacity::assess;
use rpcaudit::epm::client::{to_endpoint, unread_floor_warnings};
use rpcaudit::epm::{HostDump, HostStatus};
use rpcaudit::ports::PortRanges;
use rpcaudit::wire::epm::LookupResponse;
use rpcaudit::wire::ndr::Stub;
use rpcaudit::wire::pdu::{Body, Pdu};
use support::real;

/// tshark's fields of the capture's `ept_lookup` responses, as JSON.
fn tshark_lookup_responses(pcap: &str) -> serde_json::Value {
    let fields = [
        "tcp.payload",
        "epm.object",
        "epm.tower.num_floors",
        "epm.tower.proto_id",
        "epm.tower.lhs.len",
        "epm.tower.rhs.len",
        "epm.uuid",
        "epm.uuid_version",
        "epm.proto.http_port",
        "epm.annotation",
        "epm.num_ents",
        "epm.rc",
    ];
    let mut args = vec![
        "-r",
        pcap,
        "-Y",
        "epm.opnum == 2 && dcerpc.pkt_type == 2",
        "-T",
        "json",
    ];
    for f in &fields {
        args.extend(["-e", f]);
    }
    serde_json::from_str(&real::stdout_of("tshark", &args)).expect("tshark's JSON")
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|k| u8::from_str_radix(&s[k..k + 2], 16).unwrap())
        .collect()
}

/// impacket's reading of the same PDU: each entry's annotation, its floors below the two UUID
/// floors by their number from 1 (protocol byte and related data in hex), and
/// `PrintStringBinding`'s text.
const IMPACKET: &str = r#"
import sys, json
from impacket.dcerpc.v5.rpcrt import MSRPCRespHeader
from impacket.dcerpc.v5 import epm
resp = epm.ept_lookupResponse(MSRPCRespHeader(bytes.fromhex(sys.argv[1]))['pduData'])
out = []
for k in range(resp['num_ents']):
    e = resp['entries'][k]
    t = epm.EPMTower(b''.join(e['tower']['tower_octet_string']))
    out.append({
        'annotation': b''.join(e['annotation']).rstrip(b'\0').decode(),
        'floors': {str(n + 1): [f['ProtocolData'].hex(), f['RelatedData'].hex()]
                   for n, f in enumerate(t['Floors']) if n >= 2},
        'binding': epm.PrintStringBinding(t['Floors']),
    })
print(json.dumps(out))
"#;

#[test]
fn an_exchange_servers_lookup_answer_is_read_as_tshark_and_impacket_read_it() {
    let Some(pcap) = real::artifact("exchange-mapi.pcap") else {
        return;
    };
    if !real::reader("tshark", "tshark", &["--version"]) {
        return;
    }
    let pcap = pcap.to_str().unwrap();
    let answers = tshark_lookup_responses(pcap);
    let [answer] = answers.as_array().unwrap().as_slice() else {
        panic!("one ept_lookup response expected: {answers:#}")
    };
    let t = &answer["_source"]["layers"];
    let field = |name: &str| -> Vec<String> {
        t[name]
            .as_array()
            .unwrap_or_else(|| panic!("tshark gave no {name}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let payload = field("tcp.payload").concat();

    // Ours: the wire layer and to_endpoint, as a dump reads every entry.
    let bytes = unhex(&payload);
    let pdu = Pdu::decode(&bytes).expect("the PDU");
    let Body::Response(r) = &pdu.body else {
        panic!("not a response: {pdu:?}")
    };
    assert_eq!(field("epm.rc"), ["0x00000000"]);
    let resp = LookupResponse::decode(r.stub, pdu.header.byte_order()).expect("the stub");
    assert_eq!(resp.status, 0);
    assert_eq!(field("epm.num_ents"), [resp.entries.len().to_string()]);
    let [entry] = resp.entries.as_slice() else {
        panic!("{:?}", resp.entries)
    };
    let e = to_endpoint(entry).expect("an endpoint");

    // Field for field with tshark.
    assert_eq!(field("epm.object"), [e.object.to_string()]);
    assert_eq!(field("epm.annotation"), [e.annotation.as_str()]);
    assert_eq!(field("epm.uuid")[0], e.interface.to_string());
    // tshark shows the version's two bytes as "major.minor" of one big-endian number
    // ("Version: 56.00" for the bytes 38 00): the major of the little-endian field.
    let v: u16 = field("epm.uuid_version")[0].parse().unwrap();
    assert_eq!(e.version, format!("{}.0", v.swap_bytes()));
    assert_eq!(field("epm.proto.http_port"), [e.port.unwrap().to_string()]);
    assert_eq!(e.protocol, "ncacn_http");
    assert_eq!(e.binding, "ncacn_http:[5000]");
    let ids = field("epm.tower.proto_id");
    assert_eq!(field("epm.tower.num_floors"), [ids.len().to_string()]);
    assert_eq!(ids.len(), 5);
    // The one floor the binding does not read: the fifth, 0x20, four bytes on its right.
    let [unread] = e.unread_floors.as_slice() else {
        panic!("{:?}", e.unread_floors)
    };
    assert_eq!(unread.floor, 5);
    assert_eq!(ids[unread.floor - 1], "0x20");
    assert_eq!(
        field("epm.tower.lhs.len")[unread.floor - 1],
        (unread.lhs.len() / 2).to_string()
    );
    assert_eq!(
        field("epm.tower.rhs.len")[unread.floor - 1],
        (unread.rhs.len() / 2).to_string()
    );
    let warnings: Vec<String> = unread_floor_warnings(1, &e).collect();
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].contains("tower floor 5 is unknown_proto_0x20 (right-hand side c0a80002)"),
        "{warnings:?}"
    );

    // Field for field with impacket, which reads the floor's bytes and names it.
    if !real::reader("impacket", "python3", &["-c", "import impacket"]) {
        return;
    }
    let theirs: serde_json::Value =
        serde_json::from_str(&real::stdout_of("python3", &["-c", IMPACKET, &payload])).unwrap();
    let [it] = theirs.as_array().unwrap().as_slice() else {
        panic!("{theirs:#}")
    };
    assert_eq!(it["annotation"], e.annotation.as_str());
    let floor = &it["floors"][unread.floor.to_string()];
    assert_eq!(floor[0], unread.lhs.as_str());
    assert_eq!(floor[1], unread.rhs.as_str());
    // impacket gives up on the binding at that floor and shows only the floor's name.
    assert_eq!(it["binding"], format!("{}:[0]", unread.protocol));
    // The port floor, which both read.
    assert_eq!(it["floors"]["4"][1], format!("{:04x}", e.port.unwrap()));
}

/// The same real answer counted against the article's range: its `ncacn_http` registration on
/// TCP 5000 (tshark's `epm.proto.http_port`) is a dynamic TCP port like an `ncacn_ip_tcp` one,
/// so capacity counts it, and says it lies outside 5001-5021.
#[test]
fn a_real_ncacn_http_registration_is_counted_with_the_tcp_ports() {
    let Some(pcap) = real::artifact("exchange-mapi.pcap") else {
        return;
    };
    if !real::reader("tshark", "tshark", &["--version"]) {
        return;
    }
    let answers = tshark_lookup_responses(pcap.to_str().unwrap());
    let t = &answers[0]["_source"]["layers"];
    let payload: String = t["tcp.payload"]
        .as_array()
        .expect("tshark's payload")
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let their_port: u16 = t["epm.proto.http_port"][0]
        .as_str()
        .expect("tshark's http port")
        .parse()
        .unwrap();
    let bytes = unhex(&payload);
    let pdu = Pdu::decode(&bytes).expect("the PDU");
    let Body::Response(r) = &pdu.body else {
        panic!("not a response: {pdu:?}")
    };
    let resp = LookupResponse::decode(r.stub, pdu.header.byte_order()).expect("the stub");
    let endpoints: Vec<_> = resp
        .entries
        .iter()
        .map(|entry| to_endpoint(entry).expect("an endpoint"))
        .collect();
    let host = HostDump {
        target: "exchange".into(),
        address: None,
        status: HostStatus::Ok,
        transport: None,
        error: None,
        warnings: Vec::new(),
        endpoints,
        auth: None,
        survey: None,
    };
    let range: PortRanges = "5001-5021".parse().unwrap();
    let c = assess(&host, &range, &[]);
    assert_eq!(c.http_endpoints, 1);
    assert_eq!(c.tcp_endpoints, 0);
    assert_eq!(c.in_use, 1, "{c:#?}");
    assert_eq!(c.out_of_range, 1);
    let [used] = c.dynamic_ports.as_slice() else {
        panic!("{:?}", c.dynamic_ports)
    };
    assert_eq!(used.port, their_port);
    assert!(!used.in_range);
    assert_eq!(used.protocols, ["ncacn_http"]);
    assert!(
        c.findings
            .iter()
            .any(|f| f.code == rpcaudit::finding::Code::OutOfRange),
        "{:?}",
        c.findings
    );
}

/// A named-pipe tower as Windows writes it, its NetBIOS floor holding `\\DC1`: impacket prints
/// the floor as it is, and rpcaudit's binding is the same text (rpcdump's), not `\\\\DC1`.
#[test]
fn a_unc_netbios_floor_reads_as_impacket_reads_it() {
    use rpcaudit::wire::tower::{Binding, Floor, Tower, proto};
    if !real::reader("impacket", "python3", &["-c", "import impacket"]) {
        return;
    }
    let init_shutdown = uuid::Uuid::from_u128(0x894de0c0_0d55_11d3_a322_00c04fa321a1);
    let (_, b) = Binding::parse(r"ncacn_np:\\DC1[\PIPE\InitShutdown]").unwrap();
    let tower = Tower::for_binding(init_shutdown, 1, 0, &b).unwrap();
    assert_eq!(
        tower.floors.last(),
        Some(&Floor::NetBios(r"\\DC1".into())),
        "the floor holds what Windows stores"
    );
    assert_eq!(
        tower.floors.last().map(Floor::protocol_id),
        Some(proto::NETBIOS)
    );
    let bytes = tower.encode().unwrap();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let theirs = real::stdout_of(
        "python3",
        &[
            "-c",
            "import sys; from impacket.dcerpc.v5 import epm; \
             print(epm.PrintStringBinding(epm.EPMTower(bytes.fromhex(sys.argv[1]))['Floors']))",
            &hex,
        ],
    );
    let ours = Tower::decode(&bytes).unwrap().binding().to_string();
    assert_eq!(theirs.trim_end(), ours);
    assert_eq!(ours, r"ncacn_np:\\DC1[\PIPE\InitShutdown]");
}
