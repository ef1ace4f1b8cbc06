//! An entry of the partner directory (the eight research institutes and the
//! industry partners): its fields, their rules and how it is shown. No I/O.

use gearshift_platform::error::Violations;
use gearshift_platform::{Error, Role, etag, time};
use gearshift_proto::registry::v1 as pb;
use serde::{Deserialize, Serialize};

use crate::supplier::profile::{Contact, enum_names, parts_group_name, required_text};

/// An institute as stored and as carried in audit events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Institute {
    pub code: String,
    /// `InstituteKind` name.
    pub kind: String,
    pub name_ko: String,
    pub name_en: String,
    /// `PartsGroup` names.
    pub parts_groups: Vec<String>,
    /// `TicketCategory` names.
    pub ticket_categories: Vec<String>,
    pub contact: Contact,
    pub create_time: i64,
    pub update_time: i64,
    pub revision: i64,
}

/// Fields an update mask may name, (snake, camel).
pub const FIELDS: &[(&str, &str)] = &[
    ("kind", "kind"),
    ("name_ko", "nameKo"),
    ("name_en", "nameEn"),
    ("parts_groups", "partsGroups"),
    ("ticket_categories", "ticketCategories"),
    ("contact", "contact"),
];

/// `KATECH`: 2 to 16 upper-case letters or digits, starting with a letter
/// (the same rule as `institute:<CODE>` roles).
pub fn code(raw: &str) -> Result<String, String> {
    match Role::parse(&format!("institute:{}", raw.trim())) {
        Ok(Role::Institute(code)) => Ok(code),
        _ => Err("must be 2-16 upper-case letters or digits, starting with a letter".into()),
    }
}

/// Reads the named fields (lowerCamelCase) of `input` into `into`.
pub fn read(input: &pb::Institute, fields: &[&str], into: &mut Institute, v: &mut Violations) {
    for field in fields {
        match *field {
            "kind" => match pb::InstituteKind::try_from(input.kind) {
                Ok(pb::InstituteKind::Unspecified) => v.add("institute.kind", "is required"),
                Ok(k) => into.kind = k.as_str_name().to_string(),
                Err(_) => v.add("institute.kind", "is not an institute kind"),
            },
            "nameKo" | "nameEn" => {
                let (raw, at) = if *field == "nameKo" {
                    (&input.name_ko, "institute.nameKo")
                } else {
                    (&input.name_en, "institute.nameEn")
                };
                let name = v.check(at, required_text(raw, 200)).unwrap_or_default();
                if *field == "nameKo" {
                    into.name_ko = name;
                } else {
                    into.name_en = name;
                }
            }
            "partsGroups" => {
                into.parts_groups = enum_names(
                    "institute.partsGroups",
                    &input.parts_groups,
                    parts_group_name,
                    "parts group",
                    v,
                )
            }
            "ticketCategories" => {
                into.ticket_categories = enum_names(
                    "institute.ticketCategories",
                    &input.ticket_categories,
                    |c| match pb::TicketCategory::try_from(c) {
                        Ok(pb::TicketCategory::Unspecified) | Err(_) => None,
                        Ok(c) => Some(c.as_str_name()),
                    },
                    "ticket category",
                    v,
                )
            }
            "contact" => {
                into.contact = match &input.contact {
                    Some(c) if *c != pb::Contact::default() => {
                        crate::supplier::profile::contact(c, "institute.contact", v)
                    }
                    _ => Contact::default(),
                };
            }
            _ => {}
        }
    }
}

pub fn to_proto(i: &Institute) -> pb::Institute {
    let contact = &i.contact;
    pb::Institute {
        code: i.code.clone(),
        kind: pb::InstituteKind::from_str_name(&i.kind).unwrap_or_default() as i32,
        name_ko: i.name_ko.clone(),
        name_en: i.name_en.clone(),
        parts_groups: i
            .parts_groups
            .iter()
            .filter_map(|g| pb::PartsGroup::from_str_name(g))
            .map(|g| g as i32)
            .collect(),
        ticket_categories: i
            .ticket_categories
            .iter()
            .filter_map(|c| pb::TicketCategory::from_str_name(c))
            .map(|c| c as i32)
            .collect(),
        contact: (*contact != Contact::default()).then(|| pb::Contact {
            name: contact.name.clone(),
            role: contact.role.clone(),
            email: contact.email.clone(),
            phone: contact.phone.clone(),
        }),
        create_time: Some(time::to_timestamp(i.create_time)),
        update_time: Some(time::to_timestamp(i.update_time)),
        etag: etag::from_revision(i.revision),
    }
}

pub fn not_found(code: &str) -> Error {
    Error::NotFound {
        resource: "institute",
        id: code.to_string(),
    }
}

pub fn marks(values: &[String]) -> String {
    if values.is_empty() {
        String::new()
    } else {
        format!(",{},", values.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_role_rule() {
        assert_eq!(code(" KATECH ").unwrap(), "KATECH");
        for bad in ["katech", "K", "KAT-ECH", "1KATECH", "ABCDEFGHIJKLMNOPQ"] {
            assert!(code(bad).is_err(), "{bad}");
        }
    }
}
