//! The end-of-run per-drone summary table.

use crate::Tracks;
use std::fmt::Write;

/// Most drone rows printed; the rest are summarised in one line.
const MAX_ROWS: usize = 40;

impl Tracks {
    /// A one-screen table, one row per drone (first seen first): serial, product, frames
    /// (total, telemetry, identity), first/last seen (s), track points, sequence gaps (with the
    /// sequence numbers missed), CRC16 failures and the last position; then one line per
    /// encrypted drone naming its session (`encrypted DJI drone, session 1a2b3c4d, N frames
    /// …`), then one line of totals. Encrypted drones' rows show `session:<hex>` as the serial
    /// and [`crate::ENCRYPTED_PRODUCT_NAME`] as the product. At most 40 drone rows (and 40
    /// session lines); newline-terminated.
    pub fn summary_table(&self) -> String {
        let serial_w = self
            .drones
            .iter()
            .map(|d| d.serial_number.chars().count())
            .max()
            .unwrap_or(0)
            .max("SERIAL".len());
        let product_w = self
            .drones
            .iter()
            .map(|d| d.product_name.as_deref().unwrap_or("-").chars().count())
            .max()
            .unwrap_or(0)
            .max("PRODUCT".len());
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<serial_w$}  {:<product_w$}  {:>6}  {:>5}  {:>5}  {:>9}  {:>9}  {:>6}  {:>14}  {:>5}  LAST POSITION",
            "SERIAL", "PRODUCT", "FRAMES", "TELEM", "IDENT", "FIRST_S", "LAST_S", "POINTS",
            "SEQ_GAPS(MISS)", "CRC16",
        );
        for d in self.drones.iter().take(MAX_ROWS) {
            let gaps = format!("{}({})", d.sequence_gaps, d.missing_sequences);
            let pos = d.last_position().map_or_else(
                || "-".to_string(),
                |p| format!("{:.6}, {:.6}", p.lat_deg, p.lon_deg),
            );
            let _ = writeln!(
                s,
                "{:<serial_w$}  {:<product_w$}  {:>6}  {:>5}  {:>5}  {:>9.3}  {:>9.3}  {:>6}  {:>14}  {:>5}  {}",
                d.serial_number,
                d.product_name.as_deref().unwrap_or("-"),
                d.frames(),
                d.telemetry_frames,
                d.identity_frames,
                d.first_seen_s,
                d.last_seen_s,
                d.points.len(),
                gaps,
                d.crc16_failures,
                pos,
            );
        }
        if self.drones.len() > MAX_ROWS {
            let _ = writeln!(s, "... and {} more drones", self.drones.len() - MAX_ROWS);
        }
        let encrypted: Vec<_> = self
            .drones
            .iter()
            .filter_map(|d| d.encrypted.as_ref().map(|e| (d, e)))
            .collect();
        for (d, e) in encrypted.iter().take(MAX_ROWS) {
            let _ = writeln!(
                s,
                "encrypted DJI drone, session {}, {} frames ({} CRYP, {} INFP), seen {:.3}-{:.3} s, no position (spec §5.8)",
                e.session_id,
                d.frames(),
                e.cryp_frames,
                e.infp_frames,
                d.first_seen_s,
                d.last_seen_s,
            );
        }
        if encrypted.len() > MAX_ROWS {
            let _ = writeln!(
                s,
                "... and {} more encrypted drones",
                encrypted.len() - MAX_ROWS
            );
        }
        let _ = writeln!(
            s,
            "{} drone(s) ({} encrypted); {} frame(s): {} CRC24 failure(s), {} encrypted, {} unknown, {} unattributed CRC16 failure(s); {} sample(s) dropped",
            self.drones.len(),
            encrypted.len(),
            self.frames_total,
            self.crc24_failures,
            self.encrypted_frames,
            self.unknown_frames,
            self.unattributed_crc16_failures,
            self.dropped_samples,
        );
        s
    }
}
