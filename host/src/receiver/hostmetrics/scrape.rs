//! One scrape of the host's `/proc`, as OTLP metrics with the Go collector's
//! hostmetrics names, units and attributes (`system.cpu.time{cpu,state}`,
//! `system.memory.usage{state}`, `system.disk.io{device,direction}`, …).

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Gauge, Metric, NumberDataPoint, Sum, metric, number_data_point,
};
use procfs::{Current, CurrentSI};

/// What a scrape failed on (a `/proc` file missing or unreadable).
#[derive(Debug, thiserror::Error)]
#[error("cannot read {what}: {source}")]
pub struct ScrapeError {
    what: &'static str,
    source: procfs::ProcError,
}

fn read<T>(what: &'static str, result: procfs::ProcResult<T>) -> Result<T, ScrapeError> {
    result.map_err(|source| ScrapeError { what, source })
}

/// Timestamps shared by every point of one scrape.
#[derive(Debug, Clone, Copy)]
pub struct Times {
    /// Boot time: the start of every cumulative series.
    pub start_unix_nano: u64,
    pub now_unix_nano: u64,
}

/// `system.cpu.time`: seconds each CPU spent in each state, since boot.
pub fn cpu(times: Times) -> Result<Vec<Metric>, ScrapeError> {
    let stats = read("/proc/stat", procfs::KernelStats::current())?;
    let mut points = Vec::new();
    for (i, cpu) in stats.cpu_time.iter().enumerate() {
        let name = format!("cpu{i}");
        let ms = |v: Option<u64>| v.unwrap_or(0) as f64 / 1000.0;
        let states = [
            ("user", cpu.user_ms() as f64 / 1000.0),
            ("nice", cpu.nice_ms() as f64 / 1000.0),
            ("system", cpu.system_ms() as f64 / 1000.0),
            ("idle", cpu.idle_ms() as f64 / 1000.0),
            ("wait", ms(cpu.iowait_ms())),
            ("interrupt", ms(cpu.irq_ms())),
            ("softirq", ms(cpu.softirq_ms())),
            ("steal", ms(cpu.steal_ms())),
        ];
        for (state, seconds) in states {
            points.push(double(times, seconds, &[("cpu", &name), ("state", state)]));
        }
    }
    Ok(vec![sum("system.cpu.time", "s", true, points)])
}

/// `system.memory.usage`: bytes in each state (used as gopsutil computes it).
pub fn memory(times: Times) -> Result<Vec<Metric>, ScrapeError> {
    let m = read("/proc/meminfo", procfs::Meminfo::current())?;
    let reclaimable = m.s_reclaimable.unwrap_or(0);
    let used = m
        .mem_total
        .saturating_sub(m.mem_free)
        .saturating_sub(m.buffers)
        .saturating_sub(m.cached)
        .saturating_sub(reclaimable);
    let states = [
        ("used", used),
        ("free", m.mem_free),
        ("buffered", m.buffers),
        ("cached", m.cached),
        ("slab_reclaimable", reclaimable),
        ("slab_unreclaimable", m.s_unreclaim.unwrap_or(0)),
    ];
    let points = states
        .iter()
        .map(|(state, bytes)| int(times, *bytes, &[("state", state)]))
        .collect();
    Ok(vec![sum("system.memory.usage", "By", false, points)])
}

/// `system.disk.*`: bytes, operations, time and merges per device and direction.
pub fn disk(times: Times) -> Result<Vec<Metric>, ScrapeError> {
    let disks = read("/proc/diskstats", procfs::diskstats())?;
    const SECTOR: u64 = 512;
    let mut io = Vec::new();
    let mut ops = Vec::new();
    let mut op_time = Vec::new();
    let mut merged = Vec::new();
    let mut io_time = Vec::new();
    let mut pending = Vec::new();
    for d in &disks {
        let dev = d.name.as_str();
        let rw = |read: u64, write: u64, points: &mut Vec<NumberDataPoint>| {
            points.push(int(times, read, &[("device", dev), ("direction", "read")]));
            points.push(int(
                times,
                write,
                &[("device", dev), ("direction", "write")],
            ));
        };
        rw(d.sectors_read * SECTOR, d.sectors_written * SECTOR, &mut io);
        rw(d.reads, d.writes, &mut ops);
        rw(d.merged, d.writes_merged, &mut merged);
        op_time.push(double(
            times,
            d.time_reading as f64 / 1000.0,
            &[("device", dev), ("direction", "read")],
        ));
        op_time.push(double(
            times,
            d.time_writing as f64 / 1000.0,
            &[("device", dev), ("direction", "write")],
        ));
        io_time.push(double(
            times,
            d.time_in_progress as f64 / 1000.0,
            &[("device", dev)],
        ));
        pending.push(int(times, d.in_progress, &[("device", dev)]));
    }
    Ok(vec![
        sum("system.disk.io", "By", true, io),
        sum("system.disk.operations", "{operations}", true, ops),
        sum("system.disk.operation_time", "s", true, op_time),
        sum("system.disk.merged", "{operations}", true, merged),
        sum("system.disk.io_time", "s", true, io_time),
        sum(
            "system.disk.pending_operations",
            "{operations}",
            false,
            pending,
        ),
    ])
}

/// `system.network.*`: bytes, packets, errors and drops per interface and direction.
pub fn network(times: Times) -> Result<Vec<Metric>, ScrapeError> {
    let mut devices: Vec<_> = read("/proc/net/dev", procfs::net::dev_status())?
        .into_values()
        .collect();
    devices.sort_by(|a, b| a.name.cmp(&b.name));
    let mut io = Vec::new();
    let mut packets = Vec::new();
    let mut errors = Vec::new();
    let mut dropped = Vec::new();
    for d in &devices {
        let dev = d.name.as_str();
        let both = |rx: u64, tx: u64, points: &mut Vec<NumberDataPoint>| {
            points.push(int(times, rx, &[("device", dev), ("direction", "receive")]));
            points.push(int(
                times,
                tx,
                &[("device", dev), ("direction", "transmit")],
            ));
        };
        both(d.recv_bytes, d.sent_bytes, &mut io);
        both(d.recv_packets, d.sent_packets, &mut packets);
        both(d.recv_errs, d.sent_errs, &mut errors);
        both(d.recv_drop, d.sent_drop, &mut dropped);
    }
    Ok(vec![
        sum("system.network.io", "By", true, io),
        sum("system.network.packets", "{packets}", true, packets),
        sum("system.network.errors", "{errors}", true, errors),
        sum("system.network.dropped", "{packets}", true, dropped),
    ])
}

/// `system.cpu.load_average.{1m,5m,15m}`.
pub fn load(times: Times) -> Result<Vec<Metric>, ScrapeError> {
    let load = read("/proc/loadavg", procfs::LoadAverage::current())?;
    Ok([("1m", load.one), ("5m", load.five), ("15m", load.fifteen)]
        .into_iter()
        .map(|(window, value)| Metric {
            name: format!("system.cpu.load_average.{window}"),
            unit: "{thread}".into(),
            data: Some(metric::Data::Gauge(Gauge {
                data_points: vec![double(times, f64::from(value), &[])],
            })),
            ..Default::default()
        })
        .collect())
}

fn sum(name: &str, unit: &str, monotonic: bool, data_points: Vec<NumberDataPoint>) -> Metric {
    Metric {
        name: name.into(),
        unit: unit.into(),
        data: Some(metric::Data::Sum(Sum {
            data_points,
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
            is_monotonic: monotonic,
        })),
        ..Default::default()
    }
}

fn point(times: Times, value: number_data_point::Value, attrs: &[(&str, &str)]) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attrs
            .iter()
            .map(|(k, v)| KeyValue {
                key: (*k).into(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::StringValue((*v).into())),
                }),
                ..Default::default()
            })
            .collect(),
        start_time_unix_nano: times.start_unix_nano,
        time_unix_nano: times.now_unix_nano,
        value: Some(value),
        ..Default::default()
    }
}

fn int(times: Times, value: u64, attrs: &[(&str, &str)]) -> NumberDataPoint {
    point(times, number_data_point::Value::AsInt(value as i64), attrs)
}

fn double(times: Times, value: f64, attrs: &[(&str, &str)]) -> NumberDataPoint {
    point(times, number_data_point::Value::AsDouble(value), attrs)
}

/// Boot time in nanoseconds since the epoch (`btime` of `/proc/stat`).
pub fn boot_time_unix_nano() -> Result<u64, ScrapeError> {
    let stats = read("/proc/stat", procfs::KernelStats::current())?;
    Ok(stats.btime * 1_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn times() -> Times {
        Times {
            start_unix_nano: boot_time_unix_nano().unwrap(),
            now_unix_nano: 1,
        }
    }

    fn names(metrics: &[Metric]) -> Vec<&str> {
        metrics.iter().map(|m| m.name.as_str()).collect()
    }

    #[test]
    fn cpu_time_has_every_state_of_every_cpu() {
        let metrics = cpu(times()).unwrap();
        let Some(metric::Data::Sum(sum)) = &metrics[0].data else {
            panic!("not a sum")
        };
        // Eight states per CPU, at least one CPU.
        assert!(sum.data_points.len() >= 8, "{}", sum.data_points.len());
        assert_eq!(sum.data_points.len() % 8, 0);
        assert!(sum.is_monotonic);
        let user: f64 = sum
            .data_points
            .iter()
            .filter(|p| {
                p.attributes[1].value.as_ref().unwrap().value
                    == Some(any_value::Value::StringValue("user".into()))
            })
            .map(|p| match p.value {
                Some(number_data_point::Value::AsDouble(v)) => v,
                _ => panic!("not a double"),
            })
            .sum();
        assert!(user > 0.0, "this machine has run user code");
    }

    #[test]
    fn memory_states_add_up_to_at_most_the_total() {
        let metrics = memory(times()).unwrap();
        let Some(metric::Data::Sum(sum)) = &metrics[0].data else {
            panic!("not a sum")
        };
        let total: i64 = sum
            .data_points
            .iter()
            .take(4) // used, free, buffered, cached
            .map(|p| match p.value {
                Some(number_data_point::Value::AsInt(v)) => v,
                _ => panic!("not an int"),
            })
            .sum();
        let meminfo = procfs::Meminfo::current().unwrap();
        assert!(total > 0 && total as u64 <= meminfo.mem_total);
    }

    #[test]
    fn every_scraper_names_its_metrics_as_the_go_collector() {
        let t = times();
        assert_eq!(
            names(&network(t).unwrap()),
            [
                "system.network.io",
                "system.network.packets",
                "system.network.errors",
                "system.network.dropped"
            ]
        );
        assert_eq!(names(&disk(t).unwrap())[0], "system.disk.io");
        assert_eq!(
            names(&load(t).unwrap()),
            [
                "system.cpu.load_average.1m",
                "system.cpu.load_average.5m",
                "system.cpu.load_average.15m"
            ]
        );
    }
}
