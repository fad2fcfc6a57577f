//! Peak memory and speed of writing an export, 10k, 100k and 1M rows, in every format.
//!
//! `cargo bench -p model --bench export_memory` (row counts as arguments change the three
//! sizes, `-- 10000 200000`; `--json` prints one JSON object a line, which `make bench`
//! reads). Each run is a child process (this binary re-executed) that writes synthetic
//! contacts through the export writer into a multipart sink that counts and drops the
//! parts, then reports its peak resident memory (VmHWM) and how long it took. Memory is
//! bounded by the part buffer (8 MiB, plus the part in flight), not by the rows: a file
//! smaller than a part (10k rows) peaks lower, and from there on the peak stays flat
//! (100k ≈ 1M).

use model::export::{ExportFormat, ExportRow, PartSink, Parts, RowWriter};
use std::process::Command;
use std::time::Instant;

/// Counts the parts an upload would send; keeps none of them.
struct CountingSink {
    parts: u32,
}

impl PartSink for CountingSink {
    async fn upload(&mut self, _number: i32, bytes: Vec<u8>) -> Result<(), model::export::ExportError> {
        self.parts += 1;
        drop(bytes);
        Ok(())
    }
}

fn row(i: u64) -> ExportRow {
    ExportRow {
        id: i,
        name: Some(format!("Person Number{i}")),
        email: Some(format!("person{i}@example{}.com", i % 97)),
        phone: i.is_multiple_of(3).then(|| format!("+1 415-555-{:04}", i % 10_000)),
        channel: ["frame", "messenger", "telegram", "livechat", "whatsapp"][(i % 5) as usize],
        created_at: "2025-08-22T05:02:29Z".into(),
        phone_e164: i.is_multiple_of(3).then(|| format!("+1415555{:04}", i % 10_000)),
        status: ["new", "active", "follow_up", "archived"][(i % 4) as usize],
        score: ["cold", "warm", "hot"][(i % 3) as usize],
        tags: if i.is_multiple_of(2) { vec!["pricing".into(), format!("batch-{}", i % 50)] } else { Vec::new() },
        last_activity_at: "2025-08-23T11:40:07Z".into(),
        consent: if i.is_multiple_of(11) { "withdrawn" } else { "unknown" },
        opted_out: i.is_multiple_of(11),
    }
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The child: writes `rows` rows and prints `peak_kib parts bytes seconds`.
fn child(format: ExportFormat, rows: u64) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let started = Instant::now();
    let (parts, bytes) = runtime.block_on(async {
        let mut writer = RowWriter::new(format).unwrap();
        let mut parts = Parts::new(CountingSink { parts: 0 });
        // Batches of 400, as the export worker reads list pages.
        for batch in 0..rows.div_ceil(400) {
            for i in batch * 400..((batch + 1) * 400).min(rows) {
                writer.write(&row(i + 1)).unwrap();
            }
            parts.push(&writer.take().unwrap()).await.unwrap();
        }
        writer.finish(&mut parts).await.unwrap();
        let (sink, bytes, _) = parts.finish().await.unwrap();
        (sink.parts, bytes)
    });
    println!("{} {parts} {bytes} {:.6}", peak_rss_kib(), started.elapsed().as_secs_f64());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Ok(spec) = std::env::var("EXPORT_MEMORY_CHILD") {
        let (format, rows) = spec.split_once(':').unwrap();
        return child(ExportFormat::parse(format).unwrap(), rows.parse().unwrap());
    }
    let json = args.iter().any(|a| a == "--json");
    let mut sizes: Vec<u64> = args.iter().skip(1).filter_map(|a| a.parse().ok()).collect();
    if sizes.is_empty() {
        sizes = vec![10_000, 100_000, 1_000_000];
    }
    if !json {
        println!("export: peak RSS and speed writing {sizes:?} rows into a multipart sink (8 MiB parts)");
        println!(
            "{:<6} {:>9} {:>9} {:>6} {:>9} {:>8} {:>10}",
            "format", "rows", "peak MiB", "parts", "file MiB", "seconds", "rows/s"
        );
    }
    for format in ["csv", "xlsx", "json"] {
        for &rows in &sizes {
            let out = Command::new(std::env::current_exe().unwrap())
                .env("EXPORT_MEMORY_CHILD", format!("{format}:{rows}"))
                .output()
                .expect("child runs");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let v: Vec<f64> =
                String::from_utf8_lossy(&out.stdout).split_whitespace().map(|v| v.parse().unwrap()).collect();
            let (peak_kib, parts, bytes, seconds) = (v[0], v[1], v[2], v[3]);
            let rows_per_second = rows as f64 / seconds.max(1e-9);
            if json {
                println!(
                    "{{\"format\":\"{format}\",\"rows\":{rows},\"peak_rss_kb\":{peak_kib},\"parts\":{parts},\"bytes\":{bytes},\"seconds\":{seconds},\"rows_per_second\":{rows_per_second:.0}}}"
                );
            } else {
                println!(
                    "{format:<6} {rows:>9} {:>9.0} {parts:>6} {:>9.1} {seconds:>8.2} {rows_per_second:>10.0}",
                    peak_kib / 1024.0,
                    bytes / 1_048_576.0,
                );
            }
        }
    }
}
