//! Peak memory of writing an export, 10k, 100k and 1M rows, in every format.
//!
//! `cargo bench -p model --bench export_memory` (add `-- 200000` to change the large
//! count). Each run is a child process (this binary re-executed) that writes synthetic
//! contacts through the export writer into a multipart sink that counts and drops the
//! parts, then reports its peak resident memory (VmHWM). Memory is bounded by the part
//! buffer (8 MiB, plus the part in flight), not by the rows: a file smaller than a part
//! (10k rows) peaks lower, and from there on the peak stays flat (100k ≈ 1M).

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
        phone: i.is_multiple_of(3).then(|| format!("+1 415 555 {:04}", i % 10_000)),
        channel: ["frame", "messenger", "telegram", "livechat", "whatsapp"][(i % 5) as usize],
        created_at: "2025-08-22T05:02:29Z".into(),
        status: ["new", "active", "follow_up", "archived"][(i % 4) as usize],
        tags: if i.is_multiple_of(2) { vec!["pricing".into(), format!("batch-{}", i % 50)] } else { Vec::new() },
        last_activity_at: "2025-08-23T11:40:07Z".into(),
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
    println!("{} {parts} {bytes} {:.1}", peak_rss_kib(), started.elapsed().as_secs_f64());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Ok(spec) = std::env::var("EXPORT_MEMORY_CHILD") {
        let (format, rows) = spec.split_once(':').unwrap();
        return child(ExportFormat::parse(format).unwrap(), rows.parse().unwrap());
    }
    let large: u64 = args.iter().skip(1).find_map(|a| a.parse().ok()).unwrap_or(1_000_000);
    let (small, middle) = (10_000, 100_000);
    println!("export memory: peak RSS writing {small}, {middle} and {large} rows into a multipart sink (8 MiB parts)");
    println!(
        "{:<6} {:>10} {:>10} {:>10} {:>10} {:>10} {:>8} {:>10} {:>8}",
        "format", "peak 10k", "peak 100k", "peak big", "big/100k", "big/10k", "parts", "file MiB", "seconds"
    );
    for format in ["csv", "xlsx", "json"] {
        let run = |rows: u64| -> Vec<f64> {
            let out = Command::new(std::env::current_exe().unwrap())
                .env("EXPORT_MEMORY_CHILD", format!("{format}:{rows}"))
                .output()
                .expect("child runs");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8_lossy(&out.stdout).split_whitespace().map(|v| v.parse().unwrap()).collect()
        };
        let (a, m, b) = (run(small), run(middle), run(large));
        println!(
            "{format:<6} {:>6} MiB {:>6} MiB {:>6} MiB {:>10.2} {:>10.2} {:>8} {:>10.1} {:>8}",
            a[0] as u64 / 1024,
            m[0] as u64 / 1024,
            b[0] as u64 / 1024,
            b[0] / m[0],
            b[0] / a[0],
            b[1],
            b[2] / 1_048_576.0,
            b[3]
        );
    }
}
