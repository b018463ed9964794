//! The caller's `grpc-timeout`, honoured as tonic's own server does: a call still running when
//! its deadline passes is answered CANCELLED and its handler dropped.

use std::time::Duration;

use hyper::HeaderMap;

/// `None` when the header is absent or malformed (then the call has no deadline).
pub fn grpc_timeout(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get("grpc-timeout")?.to_str().ok()?;
    // At most 8 digits and a unit, by the gRPC over HTTP/2 spec.
    if value.len() < 2 || value.len() > 9 {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(value: &str) -> Option<Duration> {
        let mut headers = HeaderMap::new();
        headers.insert("grpc-timeout", value.parse().unwrap());
        grpc_timeout(&headers)
    }

    #[test]
    fn every_unit_of_the_spec_is_understood() {
        assert_eq!(parsed("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parsed("3M"), Some(Duration::from_secs(180)));
        assert_eq!(parsed("4S"), Some(Duration::from_secs(4)));
        assert_eq!(parsed("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parsed("7u"), Some(Duration::from_micros(7)));
        assert_eq!(parsed("9n"), Some(Duration::from_nanos(9)));
    }

    #[test]
    fn malformed_values_mean_no_deadline() {
        for value in ["", "m", "12", "123456789m", "1x", "-1S"] {
            if value.is_empty() {
                assert_eq!(grpc_timeout(&HeaderMap::new()), None);
            } else {
                assert_eq!(parsed(value), None, "{value}");
            }
        }
    }
}
