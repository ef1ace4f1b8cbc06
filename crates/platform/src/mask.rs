//! Update masks (AIP-134): which fields an update changes.

use crate::Error;

/// The fields `mask` names, in lowerCamelCase, checked against the
/// updatable `fields` (given in lowerCamelCase; snake_case is accepted too).
/// `None` (every field sent) when the mask is absent or empty, as AIP-134
/// reads an empty mask.
pub fn fields(
    mask: Option<&prost_types::FieldMask>,
    updatable: &[&str],
) -> Result<Option<Vec<String>>, Error> {
    let Some(mask) = mask.filter(|m| !m.paths.is_empty()) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for path in &mask.paths {
        let camel = camel_case(path.trim());
        if !updatable.contains(&camel.as_str()) {
            return Err(Error::invalid(
                "updateMask",
                format!("{path} cannot be changed: only {}", updatable.join(", ")),
            ));
        }
        if !out.contains(&camel) {
            out.push(camel);
        }
    }
    Ok(Some(out))
}

/// Whether an update with `mask` (from [`fields`]) changes `field`.
pub fn wants(mask: &Option<Vec<String>>, field: &str) -> bool {
    mask.as_ref().is_none_or(|m| m.iter().any(|f| f == field))
}

fn camel_case(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut upper = false;
    for c in path.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(paths: &[&str]) -> prost_types::FieldMask {
        prost_types::FieldMask {
            paths: paths.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn an_absent_or_empty_mask_means_every_field_sent() {
        assert_eq!(fields(None, &["a"]).ok(), Some(None));
        assert_eq!(fields(Some(&mask(&[])), &["a"]).ok(), Some(None));
    }

    #[test]
    fn paths_are_checked_and_read_in_either_case() {
        let got = fields(
            Some(&mask(&["business_hours", "autoAssign"])),
            &["autoAssign", "businessHours"],
        );
        assert_eq!(
            got.ok(),
            Some(Some(vec![
                "businessHours".to_string(),
                "autoAssign".to_string()
            ]))
        );
        assert!(fields(Some(&mask(&["id"])), &["autoAssign"]).is_err());
        let m = Some(vec!["autoAssign".to_string()]);
        assert!(wants(&m, "autoAssign") && !wants(&m, "people") && wants(&None, "people"));
    }
}
