//! The readable end of a run: the JSON lines again, as aligned tables.

use crate::load::BroadcastMeasure;
use crate::report::Line;
use crate::scenario::bytes;

/// A table of left-aligned text columns.
#[derive(Debug, Default)]
struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(headers: &[&'static str]) -> Self {
        Self { headers: headers.to_vec(), rows: Vec::new() }
    }

    fn render(&self, title: &str) -> String {
        if self.rows.is_empty() {
            return String::new();
        }
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let line = |cells: Vec<&str>| {
            let padded: Vec<String> =
                cells.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}", width = *width)).collect();
            padded.join("  ").trim_end().to_owned()
        };
        let mut out = format!("{title}\n{}\n", line(self.headers.clone()));
        for row in &self.rows {
            out.push_str(&line(row.iter().map(String::as_str).collect()));
            out.push('\n');
        }
        out
    }
}

/// Microseconds for people: `850 µs`, `12.3 ms`.
fn micros(us: u64) -> String {
    if us < 1000 {
        format!("{us} µs")
    } else {
        format!("{:.1} ms", us as f64 / 1000.0)
    }
}

fn optional(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{v}"))
}

fn broadcast_row(scenario: &str, step: String, m: &BroadcastMeasure, ratio: Option<f64>) -> Vec<String> {
    let mut flags = Vec::new();
    if m.usage.generator_saturated {
        flags.push("gen busy");
    }
    if m.usage.contended {
        flags.push("CONTENDED");
    }
    if m.generator_behind {
        flags.push("gen behind");
    }
    if !m.clean() {
        flags.push("NOT CLEAN");
    }
    vec![
        scenario.to_owned(),
        step,
        m.target.name().to_owned(),
        m.clients.to_string(),
        m.offered_msgs_per_s.to_string(),
        m.deliveries_per_s.to_string(),
        format!("{}/{}/{}", m.lost, m.undelivered, m.duplicated),
        micros(m.latency.p50_us),
        micros(m.latency.p90_us),
        micros(m.latency.p99_us),
        micros(m.latency.max_us),
        micros(m.send_lag.p99_us),
        format!("{} %", m.usage.server_cpu_pct),
        format!("{} %", m.usage.generator_cpu_pct),
        optional(m.usage.interference_pct).replace('—', "?") + " %",
        optional(m.usage.steal_pct).replace('—', "?") + " %",
        bytes(m.usage.server_rss_bytes),
        optional(ratio),
        flags.join(", "),
    ]
}

/// Every table for the lines of a run.
pub fn render(lines: &[Line]) -> String {
    let mut broadcast = Table::new(&[
        "scenario",
        "step",
        "target",
        "clients",
        "msg/s in",
        "deliveries/s",
        "lost/late/dup",
        "p50",
        "p90",
        "p99",
        "max",
        "send lag p99",
        "srv CPU",
        "gen CPU",
        "others",
        "of it steal",
        "srv RSS",
        "vs ref",
        "flags",
    ]);
    let mut idle =
        Table::new(&["target", "connections", "srv RSS", "per connection", "opened/s", "gen RSS", "ok", "note"]);
    let mut persistence = Table::new(&[
        "senders",
        "in flight",
        "acks/s",
        "ack p50",
        "ack p99",
        "ack max",
        "srv CPU",
        "gen CPU",
        "others",
        "of it steal",
        "errors",
        "durable",
    ]);
    let mut goals = Table::new(&["goal", "target", "measured", "met"]);
    let mut machine = String::new();
    for line in lines {
        match line {
            Line::Machine(m) => {
                machine = format!(
                    "Machine: {} ({} CPUs, {}), kernel {}, load {} at start; server on CPU {}, generator on CPU {}\n",
                    m.cpu_model,
                    m.cpus,
                    m.mem_total_bytes.map_or_else(|| "?".into(), bytes),
                    m.kernel,
                    optional(m.load_avg_1m),
                    m.server_cpu.map_or_else(|| "any".into(), |c| c.to_string()),
                    m.generator_cpu.map_or_else(|| "any".into(), |c| c.to_string()),
                );
            }
            Line::Classroom(c) => {
                for m in [&c.parlor, &c.reference].into_iter().flatten() {
                    let ratio = (m.target == crate::spawn::Target::Parlor).then_some(c.ratio_deliveries).flatten();
                    broadcast.rows.push(broadcast_row("classroom", "1/s".into(), m, ratio));
                }
            }
            Line::FanoutStep(s) => {
                let c = &s.comparison;
                for m in [&c.parlor, &c.reference].into_iter().flatten() {
                    let ratio = (m.target == crate::spawn::Target::Parlor).then_some(c.ratio_deliveries).flatten();
                    broadcast.rows.push(broadcast_row("fan-out", format!("{}/s", s.rate_per_sender), m, ratio));
                }
            }
            Line::Fanout(_) | Line::Idle(_) => {}
            Line::IdleStep(s) => idle.rows.push(vec![
                s.target.name().to_owned(),
                s.connections.to_string(),
                bytes(s.server_rss_bytes),
                bytes(s.bytes_per_connection as u64),
                s.connects_per_s.to_string(),
                bytes(s.generator_rss_bytes),
                if s.ok { "yes" } else { "NO" }.to_owned(),
                s.note.clone().unwrap_or_default(),
            ]),
            Line::Persistence(p) => persistence.rows.push(vec![
                p.senders.to_string(),
                p.in_flight_per_sender.to_string(),
                p.acks_per_s.to_string(),
                micros(p.ack_latency.p50_us),
                micros(p.ack_latency.p99_us),
                micros(p.ack_latency.max_us),
                format!("{} %", p.usage.server_cpu_pct),
                format!("{} %", p.usage.generator_cpu_pct),
                optional(p.usage.interference_pct).replace('—', "?") + " %",
                optional(p.usage.steal_pct).replace('—', "?") + " %",
                p.errors.to_string(),
                p.durable.map_or("not checked", |ok| if ok { "yes" } else { "NO" }).to_owned(),
            ]),
            Line::Summary(s) => {
                for goal in &s.goals {
                    let met = match goal.met {
                        Some(true) => "yes",
                        Some(false) => "NO",
                        None => "unknown",
                    };
                    let met = match &goal.note {
                        Some(note) => format!("{met} ({note})"),
                        None => met.to_owned(),
                    };
                    goals.rows.push(vec![goal.name.to_owned(), goal.goal.clone(), goal.measured.clone(), met]);
                }
            }
        }
    }
    let sections = [
        machine,
        broadcast.render("Broadcast (lost/late/dup: over warm-up, window and drain; latency: over the window):"),
        idle.render("Idle connections:"),
        persistence.render("Persistence (acks only after commit):"),
        goals.render("Targets:"),
    ];
    sections.into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up() {
        let mut table = Table::new(&["a", "long header"]);
        table.rows.push(vec!["wide cell".into(), "x".into()]);
        let text = table.render("T:");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines, ["T:", "a          long header", "wide cell  x"]);
        assert_eq!(Table::new(&["a"]).render("empty"), "");
    }

    #[test]
    fn latencies_read_well() {
        assert_eq!(micros(850), "850 µs");
        assert_eq!(micros(12_345), "12.3 ms");
    }
}
