//! The account's long-term Kerberos key, derived from the password once per run
//! (`epm::kerberos` hands it to sspi as a key, so that later contexts skip sspi's own
//! string-to-key derivation, PBKDF2 twice a bind). Pure: the kept AS exchange and the password
//! in, the key out, and only a key that opens the AS-REP's encrypted part (RFC 4120 5.4.2, key
//! usage 3) is ever returned, so a salt or type chosen wrongly here costs the saving, never a
//! logon.

use picky_asn1::wrapper::Asn1SequenceOf;
use picky_krb::constants::key_usages::AS_REP_ENC;
use picky_krb::constants::types::PA_ETYPE_INFO2_TYPE;
use picky_krb::crypto::CipherSuite;
use picky_krb::data_types::{EtypeInfo2, PaData, PrincipalName};
use picky_krb::messages::{AsRep, KrbError};
use zeroize::Zeroizing;

/// A long-term key and its encryption type (RFC 3961 number). Never shown.
pub struct LongTermKey {
    pub enctype: u8,
    pub key: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for LongTermKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LongTermKey")
            .field("enctype", &self.enctype)
            .finish_non_exhaustive()
    }
}

/// The key of `password` that opens `as_rep`'s encrypted part (both DER, without the TCP
/// length), trying the salts the KDC named (in the AS-REP, then in the `preauth_required`
/// KRB-ERROR) and the principal's default salt (RFC 4120 4: the realm, then the name's
/// components, without separators); `None` when none opens it.
pub fn from_password(
    as_rep: &[u8],
    preauth_required: Option<&[u8]>,
    password: &str,
) -> Option<LongTermKey> {
    let rep: AsRep = picky_asn1_der::from_bytes(as_rep).ok()?;
    let rep = rep.0;
    let enctype = *rep.enc_part.0.etype.0.0.first()?;
    let cipher = CipherSuite::try_from(usize::from(enctype)).ok()?.cipher();
    let mut salts: Vec<String> = Vec::new();
    if let Some(padata) = rep.padata.0.as_ref() {
        salts.extend(etype_info2_salt(&padata.0.0));
    }
    if let Some(error) = preauth_required
        .and_then(|e| picky_asn1_der::from_bytes::<KrbError>(e).ok())
        .and_then(|e| e.0.e_data.0.map(|d| d.0.0))
        .and_then(|d| picky_asn1_der::from_bytes::<Asn1SequenceOf<PaData>>(&d).ok())
    {
        salts.extend(etype_info2_salt(&error.0));
    }
    salts.push(default_salt(rep.crealm.0.0.as_utf8(), &rep.cname.0));
    salts.dedup();
    let sealed = &rep.enc_part.0.cipher.0.0;
    salts.iter().find_map(|salt| {
        let key = Zeroizing::new(
            cipher
                .generate_key_from_password(password.as_bytes(), salt.as_bytes())
                .ok()?,
        );
        // The checksum of the encrypted part verifies only under the right key.
        let opened = Zeroizing::new(cipher.decrypt(&key, AS_REP_ENC, sealed).ok()?);
        drop(opened);
        Some(LongTermKey { enctype, key })
    })
}

/// The salt of the first PA-ETYPE-INFO2 entry in `padata`, when it names one.
fn etype_info2_salt(padata: &[PaData]) -> Option<String> {
    let data = padata
        .iter()
        .find(|p| p.padata_type.0.0 == PA_ETYPE_INFO2_TYPE)?;
    let info: EtypeInfo2 = picky_asn1_der::from_bytes(&data.padata_data.0.0).ok()?;
    let salt = info.0.first()?.salt.0.as_ref()?;
    Some(salt.0.to_string())
}

/// RFC 4120 4: "the default salt string ... is the concatenation of the principal's realm and
/// name components, in order, with no separators".
fn default_salt(realm: &str, name: &PrincipalName) -> String {
    let mut salt = realm.to_string();
    for part in &name.name_string.0.0 {
        salt.push_str(&part.to_string());
    }
    salt
}

#[cfg(test)]
mod tests {
    use super::*;
    use picky_asn1::wrapper::{
        ExplicitContextTag0, ExplicitContextTag1, ExplicitContextTag2, ExplicitContextTag3,
        ExplicitContextTag4, ExplicitContextTag5, ExplicitContextTag6, IntegerAsn1,
        OctetStringAsn1, Optional,
    };
    use picky_krb::data_types::{EncryptedData, KerberosStringAsn1, Realm, Ticket, TicketInner};
    use picky_krb::messages::KdcRep;

    fn kstr(s: &str) -> KerberosStringAsn1 {
        KerberosStringAsn1::from(
            picky_asn1::restricted_string::IA5String::from_string(s.into()).unwrap(),
        )
    }

    /// An AS-REP for audit@LAB.EXAMPLE whose encrypted part is sealed with the AES-256 key of
    /// `password` under `salt`.
    fn as_rep(password: &str, salt: &str) -> Vec<u8> {
        let cipher = CipherSuite::Aes256CtsHmacSha196.cipher();
        let key = cipher
            .generate_key_from_password(password.as_bytes(), salt.as_bytes())
            .unwrap();
        let sealed = cipher.encrypt(&key, AS_REP_ENC, b"the enc-part").unwrap();
        let name = PrincipalName {
            name_type: ExplicitContextTag0::from(IntegerAsn1::from(vec![1])),
            name_string: ExplicitContextTag1::from(Asn1SequenceOf::from(vec![kstr("audit")])),
        };
        let realm: Realm = kstr("LAB.EXAMPLE");
        let enc = |cipher: Vec<u8>| EncryptedData {
            etype: ExplicitContextTag0::from(IntegerAsn1::from(vec![18])),
            kvno: Optional::from(None),
            cipher: ExplicitContextTag2::from(OctetStringAsn1::from(cipher)),
        };
        let ticket = Ticket::from(TicketInner {
            tkt_vno: ExplicitContextTag0::from(IntegerAsn1::from(vec![5])),
            realm: ExplicitContextTag1::from(realm.clone()),
            sname: ExplicitContextTag2::from(name.clone()),
            enc_part: ExplicitContextTag3::from(enc(vec![0; 16])),
        });
        let rep = AsRep::from(KdcRep {
            pvno: ExplicitContextTag0::from(IntegerAsn1::from(vec![5])),
            msg_type: ExplicitContextTag1::from(IntegerAsn1::from(vec![11])),
            padata: Optional::from(None),
            crealm: ExplicitContextTag3::from(realm),
            cname: ExplicitContextTag4::from(name),
            ticket: ExplicitContextTag5::from(ticket),
            enc_part: ExplicitContextTag6::from(enc(sealed)),
        });
        picky_asn1_der::to_vec(&rep).unwrap()
    }

    #[test]
    fn the_default_salt_opens_the_as_rep_and_a_wrong_password_gives_nothing() {
        let rep = as_rep("Audit-Pass1", "LAB.EXAMPLEaudit");
        let k = from_password(&rep, None, "Audit-Pass1").expect("the key");
        assert_eq!(k.enctype, 18);
        assert_eq!(k.key.len(), 32);
        let expected = CipherSuite::Aes256CtsHmacSha196
            .cipher()
            .generate_key_from_password(b"Audit-Pass1", b"LAB.EXAMPLEaudit")
            .unwrap();
        assert_eq!(k.key.as_slice(), expected.as_slice());
        assert!(from_password(&rep, None, "Wrong-Pass1").is_none());
        // Nothing of the key in its Debug form.
        assert_eq!(format!("{k:?}"), "LongTermKey { enctype: 18, .. }");
    }

    #[test]
    fn a_salt_no_candidate_names_gives_nothing_and_garbage_is_no_panic() {
        // The KDC used a salt that neither message names and that is not the default one.
        let rep = as_rep("Audit-Pass1", "SOMETHING-ELSE");
        assert!(from_password(&rep, None, "Audit-Pass1").is_none());
        assert!(from_password(b"not DER", None, "x").is_none());
        assert!(from_password(&[], Some(b"junk"), "x").is_none());
    }
}
