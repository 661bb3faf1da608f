//! What produced a measurement: the machine's CPU, the build's commit, the time.

/// The commit the binary was built from (recorded by `build.rs`), or `unknown` when it was not
/// built from a git checkout.
pub(super) fn build_commit() -> &'static str {
    env!("DRONEID_BUILD_COMMIT")
}

/// Now as `YYYY-MM-DD HH:MM:SS UTC`.
pub(super) fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    utc_from_unix(secs)
}

/// `secs` since 1970-01-01 00:00:00 UTC as `YYYY-MM-DD HH:MM:SS UTC`.
fn utc_from_unix(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `nproc N, CPU model` (the model from `/proc/cpuinfo` where there is one).
pub(super) fn machine() -> String {
    let nproc = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| cpu_model(&t))
        .unwrap_or_else(|| "unknown CPU".into());
    format!("nproc {nproc}, {cpu}")
}

/// The first `model name` of a `/proc/cpuinfo` text.
fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_format() {
        assert_eq!(utc_from_unix(0), "1970-01-01 00:00:00 UTC");
        // A leap day, and a time with every field non-zero.
        assert_eq!(utc_from_unix(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_from_unix(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(utc_from_unix(4_107_542_399), "2100-02-28 23:59:59 UTC");
        assert_eq!(utc_now().len(), 23);
    }

    #[test]
    fn cpu_model_is_the_first_model_name() {
        let t = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\nflags\t: avx2\n\
                 processor\t: 1\nmodel name\t: other\n";
        assert_eq!(
            cpu_model(t).as_deref(),
            Some("Intel(R) Xeon(R) CPU @ 2.20GHz")
        );
        assert_eq!(cpu_model("flags: x"), None);
    }

    #[test]
    fn commit_is_recorded_at_build_time() {
        let c = build_commit();
        assert!(
            c == "unknown"
                || (c.len() >= 7
                    && c.split(' ')
                        .next()
                        .unwrap()
                        .chars()
                        .all(|ch| ch.is_ascii_hexdigit())),
            "{c}"
        );
    }
}
