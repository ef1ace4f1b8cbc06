//! A supplier's profile: who the company is, where, how big, what it makes,
//! and who to talk to. Validation is here (no I/O); the profile is stored as
//! one JSON document beside the columns that lists filter on.

use gearshift_platform::error::Violations;
use gearshift_proto::registry::v1 as pb;
use serde::{Deserialize, Serialize};

/// A person at the company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Contact {
    pub name: String,
    pub role: String,
    pub email: String,
    pub phone: String,
}

/// A certificate the company holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Certification {
    /// A `CertificationStandard` name.
    pub standard: String,
    pub standard_name: String,
    pub number: String,
    pub issuer: String,
    pub valid_from: String,
    pub valid_until: String,
}

pub const CERTIFICATIONS_MAX: usize = 50;

/// Everything about a supplier besides its identity and lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Profile {
    /// The 13 digits, or empty.
    pub corporate_number: String,
    pub english_name: String,
    pub representative: String,
    pub address_line: String,
    /// A `Region` name, or empty.
    pub region: String,
    pub postal_code: String,
    pub founding_date: String,
    pub employee_count: Option<i32>,
    pub annual_revenue_won: Option<i64>,
    pub sme: Option<bool>,
    pub main_customers: Vec<String>,
    pub website: String,
    pub contacts: Vec<Contact>,
    /// `PartsGroup` names.
    pub parts_groups: Vec<String>,
    pub primary_parts_group: String,
    pub council_member: bool,
    pub council_since: String,
    pub certifications: Vec<Certification>,
}

/// Profile fields as named in update masks (lowerCamelCase) and their
/// snake_case proto names.
pub const FIELDS: &[(&str, &str)] = &[
    ("corporate_number", "corporateNumber"),
    ("english_name", "englishName"),
    ("representative", "representative"),
    ("address", "address"),
    ("founding_date", "foundingDate"),
    ("employee_count", "employeeCount"),
    ("annual_revenue_won", "annualRevenueWon"),
    ("sme", "sme"),
    ("main_customers", "mainCustomers"),
    ("website", "website"),
    ("contacts", "contacts"),
    ("parts_groups", "partsGroups"),
    ("primary_parts_group", "primaryPartsGroup"),
    ("council_member", "councilMember"),
    ("council_since", "councilSince"),
    ("certifications", "certifications"),
];

/// Fields only an operator may set.
pub const OPERATOR_ONLY: &[&str] = &["councilMember", "councilSince"];

/// A Korean corporate registration number (법인등록번호): 13 digits, the
/// last a check digit over the first twelve with weights 1,2,1,2,….
pub fn corporate_number(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    let digits: String = match raw.split_once('-') {
        Some((a, b)) if a.len() == 6 && b.len() == 7 => format!("{a}{b}"),
        Some(_) => return Err("must be 13 digits, written 1234561234567 or 123456-1234567".into()),
        None => raw.to_string(),
    };
    if digits.len() != 13 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("must be 13 digits, written 1234561234567 or 123456-1234567".into());
    }
    let d: Vec<u32> = digits.bytes().map(|b| (b - b'0') as u32).collect();
    let sum: u32 = d[..12]
        .iter()
        .enumerate()
        .map(|(i, x)| x * if i % 2 == 0 { 1 } else { 2 })
        .sum();
    if (10 - sum % 10) % 10 != d[12] {
        return Err(
            "has a wrong check digit: this is not a valid corporate registration number".into(),
        );
    }
    Ok(digits)
}

pub fn format_corporate_number(digits: &str) -> String {
    if digits.len() == 13 {
        format!("{}-{}", &digits[..6], &digits[6..])
    } else {
        digits.to_string()
    }
}

/// Free text: trimmed, at most `max` characters, no control characters.
pub fn text(raw: &str, max: usize) -> Result<String, String> {
    let t = raw.trim();
    if t.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if t.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(t.to_string())
}

/// Like [`text`], and not empty.
pub fn required_text(raw: &str, max: usize) -> Result<String, String> {
    match text(raw, max)? {
        t if t.is_empty() => Err("is required".into()),
        t => Ok(t),
    }
}

/// `YYYY-MM-DD`, a real calendar date from 1900 to 2100.
pub fn date(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(String::new());
    }
    let bad = || "must be a date written YYYY-MM-DD".to_string();
    // jiff also reads other ISO 8601 forms; the API promises exactly this one.
    if t.len() != 10 || t.as_bytes()[4] != b'-' || t.as_bytes()[7] != b'-' {
        return Err(bad());
    }
    let date: jiff::civil::Date = t.parse().map_err(|_| bad())?;
    if !(1900..=2100).contains(&date.year()) {
        return Err(bad());
    }
    Ok(t.to_string())
}

fn email(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(String::new());
    }
    let ok = t.len() <= 254
        && t.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !t.contains(char::is_whitespace);
    if ok {
        Ok(t.to_string())
    } else {
        Err("is not an email address".into())
    }
}

fn phone(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(String::new());
    }
    let ok = (7..=20).contains(&t.len())
        && t.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' '))
        && t.chars().filter(char::is_ascii_digit).count() >= 7;
    if ok {
        Ok(t.to_string())
    } else {
        Err("must be 7-20 digits, spaces, + or -".into())
    }
}

fn website(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(String::new());
    }
    if t.len() > 200
        || !(t.starts_with("https://") || t.starts_with("http://"))
        || t.contains(char::is_whitespace)
    {
        return Err("must be an http(s):// address of at most 200 characters".into());
    }
    Ok(t.to_string())
}

/// The name of a parts group sent as its number; `None` for unspecified
/// or unknown.
pub fn parts_group_name(value: i32) -> Option<&'static str> {
    match pb::PartsGroup::try_from(value) {
        Ok(pb::PartsGroup::Unspecified) | Err(_) => None,
        Ok(g) => Some(g.as_str_name()),
    }
}

fn parts_group(value: i32) -> Result<String, String> {
    parts_group_name(value)
        .map(str::to_string)
        .ok_or_else(|| "is not a parts group".into())
}

/// Names of the enum values in `values`, each once; problems under `field[i]`.
pub fn enum_names(
    field: &str,
    values: &[i32],
    name: impl Fn(i32) -> Option<&'static str>,
    what: &str,
    v: &mut Violations,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, value) in values.iter().enumerate() {
        match name(*value) {
            Some(n) if out.iter().any(|o| o == n) => {
                v.add(format!("{field}[{i}]"), format!("{n} is listed twice"))
            }
            Some(n) => out.push(n.to_string()),
            None => v.add(format!("{field}[{i}]"), format!("is not a {what}")),
        }
    }
    out
}

/// A contact, validated; problems under `<prefix>.<field>`.
pub fn contact(c: &pb::Contact, prefix: &str, v: &mut Violations) -> Contact {
    let at = |name: &str| format!("{prefix}.{name}");
    let name = v.check(&at("name"), text(&c.name, 100)).unwrap_or_default();
    if name.is_empty() {
        v.add(at("name"), "is required");
    }
    Contact {
        name,
        role: v.check(&at("role"), text(&c.role, 100)).unwrap_or_default(),
        email: v.check(&at("email"), email(&c.email)).unwrap_or_default(),
        phone: v.check(&at("phone"), phone(&c.phone)).unwrap_or_default(),
    }
}

/// Reads the named profile fields (lowerCamelCase) from `input` into a
/// validated profile; problems go to `v` under `supplier.<field>`.
pub fn read(input: &pb::Supplier, fields: &[&str], v: &mut Violations) -> Profile {
    let mut p = Profile::default();
    let f = |name: &str| format!("supplier.{name}");
    for field in fields {
        match *field {
            "corporateNumber" if !input.corporate_number.trim().is_empty() => {
                p.corporate_number = v
                    .check(&f(field), corporate_number(&input.corporate_number))
                    .unwrap_or_default();
            }
            "englishName" => {
                p.english_name = v
                    .check(&f(field), text(&input.english_name, 200))
                    .unwrap_or_default()
            }
            "representative" => {
                p.representative = v
                    .check(&f(field), text(&input.representative, 100))
                    .unwrap_or_default()
            }
            "address" => {
                if let Some(a) = &input.address {
                    p.address_line = v
                        .check("supplier.address.line", text(&a.line, 300))
                        .unwrap_or_default();
                    let postal = a.postal_code.trim();
                    if !postal.is_empty()
                        && (postal.len() != 5 || !postal.bytes().all(|b| b.is_ascii_digit()))
                    {
                        v.add("supplier.address.postalCode", "must be 5 digits");
                    }
                    p.postal_code = postal.to_string();
                    p.region = match pb::Region::try_from(a.region) {
                        Ok(pb::Region::Unspecified) => {
                            if !p.address_line.is_empty() {
                                v.add("supplier.address.region", "is required with an address");
                            }
                            String::new()
                        }
                        Ok(r) => r.as_str_name().to_string(),
                        Err(_) => {
                            v.add("supplier.address.region", "is not a region");
                            String::new()
                        }
                    };
                }
            }
            "foundingDate" => {
                p.founding_date = v
                    .check(&f(field), date(&input.founding_date))
                    .unwrap_or_default()
            }
            "employeeCount" => {
                p.employee_count = input.employee_count;
                if input
                    .employee_count
                    .is_some_and(|n| !(0..=1_000_000).contains(&n))
                {
                    v.add(f(field), "must be between 0 and 1,000,000");
                }
            }
            "annualRevenueWon" => {
                p.annual_revenue_won = input.annual_revenue_won;
                if input.annual_revenue_won.is_some_and(|n| n < 0) {
                    v.add(f(field), "must not be negative");
                }
            }
            "sme" => p.sme = input.sme,
            "mainCustomers" => {
                if input.main_customers.len() > 20 {
                    v.add(f(field), "at most 20 customers");
                }
                for (i, c) in input.main_customers.iter().enumerate() {
                    match text(c, 100) {
                        Ok(c) if c.is_empty() => {
                            v.add(format!("supplier.mainCustomers[{i}]"), "must not be empty")
                        }
                        Ok(c) => p.main_customers.push(c),
                        Err(e) => v.add(format!("supplier.mainCustomers[{i}]"), e),
                    }
                }
            }
            "website" => {
                p.website = v
                    .check(&f(field), website(&input.website))
                    .unwrap_or_default()
            }
            "contacts" => {
                if input.contacts.len() > 20 {
                    v.add(f(field), "at most 20 contacts");
                }
                for (i, c) in input.contacts.iter().enumerate() {
                    p.contacts
                        .push(contact(c, &format!("supplier.contacts[{i}]"), v));
                }
            }
            "partsGroups" => {
                p.parts_groups = enum_names(
                    "supplier.partsGroups",
                    &input.parts_groups,
                    parts_group_name,
                    "parts group",
                    v,
                );
            }
            "primaryPartsGroup" if input.primary_parts_group != 0 => {
                p.primary_parts_group = v
                    .check(&f(field), parts_group(input.primary_parts_group))
                    .unwrap_or_default();
            }
            "certifications" => {
                if input.certifications.len() > CERTIFICATIONS_MAX {
                    v.add(
                        f(field),
                        format!("at most {CERTIFICATIONS_MAX} certificates"),
                    );
                }
                for (i, c) in input.certifications.iter().enumerate() {
                    p.certifications.push(certification(i, c, v));
                }
            }
            "councilMember" => p.council_member = input.council_member,
            "councilSince" => {
                p.council_since = v
                    .check(&f(field), date(&input.council_since))
                    .unwrap_or_default()
            }
            _ => {}
        }
    }
    p
}

/// One certificate, validated; problems under `supplier.certifications[i]`.
fn certification(i: usize, c: &pb::Certification, v: &mut Violations) -> Certification {
    let at = |name: &str| format!("supplier.certifications[{i}].{name}");
    let standard = match pb::CertificationStandard::try_from(c.standard) {
        Ok(pb::CertificationStandard::Unspecified) => {
            v.add(at("standard"), "is required");
            String::new()
        }
        Ok(s) => s.as_str_name().to_string(),
        Err(_) => {
            v.add(at("standard"), "is not a certification standard");
            String::new()
        }
    };
    let standard_name = v
        .check(&at("standardName"), text(&c.standard_name, 100))
        .unwrap_or_default();
    let named = matches!(
        standard.as_str(),
        "OTHER_STANDARD" | "CLUSTER_PARTS_CENTRE_MARK"
    );
    if named && standard_name.is_empty() {
        v.add(at("standardName"), format!("is required for {standard}"));
    }
    let mut required = |name: &str, raw: &str, max: usize| {
        v.check(&at(name), required_text(raw, max))
            .unwrap_or_default()
    };
    let number = required("number", &c.number, 100);
    let issuer = required("issuer", &c.issuer, 200);
    let mut day = |name: &str, raw: &str| match date(raw) {
        Ok(d) if d.is_empty() => {
            v.add(at(name), "is required");
            d
        }
        Ok(d) => d,
        Err(e) => {
            v.add(at(name), e);
            String::new()
        }
    };
    let valid_from = day("validFrom", &c.valid_from);
    let valid_until = day("validUntil", &c.valid_until);
    if !valid_from.is_empty() && !valid_until.is_empty() && valid_until < valid_from {
        v.add(at("validUntil"), "must not be before validFrom");
    }
    Certification {
        standard,
        standard_name,
        number,
        issuer,
        valid_from,
        valid_until,
    }
}

/// Copies the named fields from `from` into `into`; returns those that changed.
pub fn apply(into: &mut Profile, from: &Profile, fields: &[&str]) -> Vec<String> {
    let mut changed = Vec::new();
    macro_rules! copy {
        ($name:literal, $($field:ident),+) => {
            if fields.contains(&$name) && ($(into.$field != from.$field)||+) {
                $(into.$field = from.$field.clone();)+
                changed.push($name.to_string());
            }
        };
    }
    copy!("corporateNumber", corporate_number);
    copy!("englishName", english_name);
    copy!("representative", representative);
    copy!("address", address_line, region, postal_code);
    copy!("foundingDate", founding_date);
    copy!("employeeCount", employee_count);
    copy!("annualRevenueWon", annual_revenue_won);
    copy!("sme", sme);
    copy!("mainCustomers", main_customers);
    copy!("website", website);
    copy!("contacts", contacts);
    copy!("partsGroups", parts_groups);
    copy!("primaryPartsGroup", primary_parts_group);
    copy!("councilMember", council_member);
    copy!("councilSince", council_since);
    copy!("certifications", certifications);
    changed
}

/// Rules across fields, checked on the record as it would be stored.
pub fn check_consistency(p: &Profile) -> Result<(), gearshift_platform::Error> {
    let mut v = Violations::new();
    if !p.primary_parts_group.is_empty() && !p.parts_groups.contains(&p.primary_parts_group) {
        v.add("supplier.primaryPartsGroup", "must be one of partsGroups");
    }
    if !p.parts_groups.is_empty() && p.primary_parts_group.is_empty() {
        v.add(
            "supplier.primaryPartsGroup",
            "is required when partsGroups are given",
        );
    }
    if !p.council_since.is_empty() && !p.council_member {
        v.add("supplier.councilSince", "is only for council members");
    }
    v.into_result()
}

/// Whether a parts group depends on the internal combustion engine.
pub fn ice_dependent(group: pb::PartsGroup) -> bool {
    matches!(
        group,
        pb::PartsGroup::PowertrainEngine
            | pb::PartsGroup::TransmissionDriveline
            | pb::PartsGroup::ExhaustSystem
            | pb::PartsGroup::FuelSystem
    )
}

/// The profile as the API shows it; contacts only when `show_contacts`.
/// Certificates whose `validUntil` is before `today` show as expired.
pub fn fill_proto(p: &Profile, out: &mut pb::Supplier, show_contacts: bool, today: &str) {
    out.corporate_number = format_corporate_number(&p.corporate_number);
    out.english_name = p.english_name.clone();
    out.representative = p.representative.clone();
    if !p.address_line.is_empty() || !p.region.is_empty() || !p.postal_code.is_empty() {
        out.address = Some(pb::Address {
            line: p.address_line.clone(),
            region: pb::Region::from_str_name(&p.region).unwrap_or_default() as i32,
            postal_code: p.postal_code.clone(),
        });
    }
    out.founding_date = p.founding_date.clone();
    out.employee_count = p.employee_count;
    out.annual_revenue_won = p.annual_revenue_won;
    out.sme = p.sme;
    out.main_customers = p.main_customers.clone();
    out.website = p.website.clone();
    if show_contacts {
        out.contacts = p
            .contacts
            .iter()
            .map(|c| pb::Contact {
                name: c.name.clone(),
                role: c.role.clone(),
                email: c.email.clone(),
                phone: c.phone.clone(),
            })
            .collect();
    }
    out.parts_groups = p
        .parts_groups
        .iter()
        .filter_map(|g| pb::PartsGroup::from_str_name(g))
        .map(|g| g as i32)
        .collect();
    out.primary_parts_group =
        pb::PartsGroup::from_str_name(&p.primary_parts_group).unwrap_or_default() as i32;
    out.council_member = p.council_member;
    out.council_since = p.council_since.clone();
    out.certifications = p
        .certifications
        .iter()
        .map(|c| pb::Certification {
            standard: pb::CertificationStandard::from_str_name(&c.standard).unwrap_or_default()
                as i32,
            standard_name: c.standard_name.clone(),
            number: c.number.clone(),
            issuer: c.issuer.clone(),
            valid_from: c.valid_from.clone(),
            valid_until: c.valid_until.clone(),
            expired: c.valid_until.as_str() < today,
        })
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corporate_numbers_are_checked() {
        assert_eq!(corporate_number("130111-0006246").unwrap(), "1301110006246"); // Samsung Electronics
        assert_eq!(corporate_number("1301110006246").unwrap(), "1301110006246");
        for pos in 0..13 {
            let mut d: Vec<u8> = b"1301110006246".to_vec();
            d[pos] = b'0' + (d[pos] - b'0' + 1) % 10;
            let s = String::from_utf8(d).unwrap();
            assert!(corporate_number(&s).is_err(), "{s}");
        }
        assert!(corporate_number("13011-10006246").is_err());
        assert_eq!(format_corporate_number("1301110006246"), "130111-0006246");
    }

    #[test]
    fn dates_are_real_calendar_dates() {
        assert!(date("2024-02-29").is_ok());
        assert!(date("2023-02-29").is_err());
        assert!(date("2023-13-01").is_err());
        assert!(date("23-01-01").is_err());
        assert_eq!(date("").unwrap(), "");
    }

    #[test]
    fn contacts_and_websites_are_checked() {
        assert!(email("kim@example.co.kr").is_ok());
        assert!(email("kim@localhost").is_err());
        assert!(phone("+82 62-123-4567").is_ok());
        assert!(phone("call me").is_err());
        assert!(website("https://example.kr").is_ok());
        assert!(website("example.kr").is_err());
    }

    #[test]
    fn primary_group_must_be_among_the_groups() {
        let mut p = Profile {
            parts_groups: vec!["BATTERY_ENERGY_STORAGE".into()],
            primary_parts_group: "THERMAL_MANAGEMENT".into(),
            ..Profile::default()
        };
        assert!(check_consistency(&p).is_err());
        p.primary_parts_group = "BATTERY_ENERGY_STORAGE".into();
        assert!(check_consistency(&p).is_ok());
    }

    #[test]
    fn engine_and_transmission_groups_are_ice_dependent() {
        assert!(ice_dependent(pb::PartsGroup::PowertrainEngine));
        assert!(ice_dependent(pb::PartsGroup::FuelSystem));
        assert!(!ice_dependent(pb::PartsGroup::BatteryEnergyStorage));
    }
}
