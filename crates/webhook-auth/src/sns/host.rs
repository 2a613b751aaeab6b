//! Which URLs belong to AWS SNS.
//!
//! `SigningCertURL` is not covered by the signature, so anyone can put any URL there; the
//! certificate is trusted only because it was fetched over HTTPS from SNS itself. The host rule
//! of AWS's own validators is `^sns\.[a-zA-Z0-9\-]{3,}\.amazonaws\.com(\.cn)?$`. We are stricter
//! about the middle label: it must have the shape of a region (`us-east-1`, `us-gov-west-1`,
//! `cn-north-1`: letters, one or more `-letters` groups, then `-digits`). The documented
//! pattern also admits `sns.s3-us-west-2.amazonaws.com`, which is S3's legacy endpoint serving a
//! bucket named `sns` — content that is not AWS's.

use url::{Host, Url};

use crate::SignatureError;

/// True for `sns.<region>.amazonaws.com` and `sns.<region>.amazonaws.com.cn` (lowercase, as a
/// parsed [`Url`] gives it).
pub fn is_genuine_sns_host(host: &str) -> bool {
    let Some(rest) = host.strip_prefix("sns.") else { return false };
    let region = rest.strip_suffix(".amazonaws.com").or_else(|| rest.strip_suffix(".amazonaws.com.cn"));
    region.is_some_and(is_region_shaped)
}

/// `letters(-letters)+-digits`, e.g. `eu-central-1`, `us-gov-west-1`.
fn is_region_shaped(label: &str) -> bool {
    let parts: Vec<&str> = label.split('-').collect();
    let Some((number, words)) = parts.split_last() else { return false };
    words.len() >= 2
        && words[0].len() >= 2
        && words.iter().all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// `raw` parsed, if it is `https` to a genuine SNS host with no credentials and no port other
/// than 443.
pub(crate) fn genuine_sns_url(raw: &str, field: &'static str) -> Result<Url, SignatureError> {
    let url = Url::parse(raw).map_err(|_| SignatureError::UntrustedHost(field))?;
    let host_ok = matches!(url.host(), Some(Host::Domain(host)) if is_genuine_sns_host(host));
    // `port()` is `None` for an explicit `:443` too: the URL crate drops the default port.
    if url.scheme() == "https"
        && host_ok
        && url.username().is_empty()
        && url.password().is_none()
        && url.port().is_none()
    {
        Ok(url)
    } else {
        Err(SignatureError::UntrustedHost(field))
    }
}

/// A `SigningCertURL` we may fetch: a genuine SNS URL of a `.pem` file, without query or fragment
/// (AWS's never have one, and the cache is keyed by the URL).
pub(crate) fn signing_cert_url(raw: &str) -> Result<Url, SignatureError> {
    const FIELD: &str = "SigningCertURL";
    let url = genuine_sns_url(raw, FIELD)?;
    if url.path().ends_with(".pem") && url.query().is_none() && url.fragment().is_none() {
        Ok(url)
    } else {
        Err(SignatureError::UntrustedHost(FIELD))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_shapes() {
        for ok in ["us-east-1", "eu-central-2", "us-gov-west-1", "cn-northwest-1", "ap-southeast-4"] {
            assert!(is_region_shaped(ok), "{ok}");
        }
        for bad in [
            "s3-us-west-2",
            "s3-external-1",
            "compute-1",
            "us-east",
            "us-east-",
            "-east-1",
            "u-east-1",
            "us--east-1",
            "us.east-1",
            "US-EAST-1",
            "",
        ] {
            assert!(!is_region_shaped(bad), "{bad}");
        }
    }
}
