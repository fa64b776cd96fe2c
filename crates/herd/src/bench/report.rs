//! A benchmark's figures, each beside its baseline, printed as a table or as JSON.

use std::fmt::Write;

/// Whether a smaller or a larger value is better (decides nothing but the table's hint).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    /// Latencies, bytes.
    Lower,
    /// Rates.
    Higher,
}

/// One measured figure with the baseline it is compared to.
#[derive(Clone, Debug)]
pub struct Figure {
    /// Machine-readable key, e.g. `rpc_p50_us`.
    pub key: String,
    /// The unit, e.g. `us`, `calls/s`.
    pub unit: &'static str,
    /// herd's value.
    pub value: f64,
    /// Which baseline it is compared to, e.g. `relay`.
    pub baseline: &'static str,
    /// The baseline's value, measured in the same run (None when there is no baseline,
    /// e.g. a fixed target).
    pub baseline_value: Option<f64>,
    /// Which direction is better.
    pub better: Better,
}

impl Figure {
    /// herd's value divided by the baseline's.
    pub fn ratio(&self) -> Option<f64> {
        self.baseline_value
            .filter(|b| *b != 0.0)
            .map(|b| self.value / b)
    }
}

/// All figures of one benchmark run, plus extra headline keys.
#[derive(Debug, Default)]
pub struct Report {
    /// The benchmark's name.
    pub name: String,
    /// Figures in the order measured.
    pub figures: Vec<Figure>,
    /// Headline values (e.g. `rpc_p50_ratio_relay`) also printed at the top level of JSON.
    pub headline: Vec<(String, f64)>,
    /// Notes printed under the table (what was measured, how).
    pub notes: Vec<String>,
}

impl Report {
    /// The table for people.
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "herd bench {}", self.name);
        let _ = writeln!(
            s,
            "{:<34} {:>14} {:>14} {:>9}  {:<10} unit",
            "figure", "herd", "baseline", "ratio", "baseline"
        );
        for f in &self.figures {
            let base = f
                .baseline_value
                .map_or("-".to_string(), |b| format!("{b:.2}"));
            let ratio = f.ratio().map_or("-".to_string(), |r| format!("{r:.3}"));
            let hint = match f.better {
                Better::Lower => "lower is better",
                Better::Higher => "higher is better",
            };
            let _ = writeln!(
                s,
                "{:<34} {:>14.2} {:>14} {:>9}  {:<10} {} ({hint})",
                f.key, f.value, base, ratio, f.baseline, f.unit
            );
        }
        for (k, v) in &self.headline {
            let _ = writeln!(s, "{k} = {v:.3}");
        }
        for n in &self.notes {
            let _ = writeln!(s, "note: {n}");
        }
        s
    }

    /// One JSON object: `{"bench": NAME, "figures": {KEY: {value, unit, baseline,
    /// baseline_value, ratio}}, HEADLINE_KEY: value, ...}`.
    pub fn to_json(&self) -> String {
        let mut figures = serde_json::Map::new();
        for f in &self.figures {
            figures.insert(
                f.key.clone(),
                serde_json::json!({
                    "value": f.value,
                    "unit": f.unit,
                    "baseline": f.baseline,
                    "baseline_value": f.baseline_value,
                    "ratio": f.ratio(),
                    "better": match f.better { Better::Lower => "lower", Better::Higher => "higher" },
                }),
            );
        }
        let mut top = serde_json::Map::new();
        top.insert("bench".into(), self.name.clone().into());
        top.insert("figures".into(), figures.into());
        for (k, v) in &self.headline {
            top.insert(k.clone(), (*v).into());
        }
        serde_json::Value::Object(top).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_has_each_figure_its_baseline_and_ratio() {
        let r = Report {
            name: "ipc".into(),
            figures: vec![Figure {
                key: "rpc_p50_us".into(),
                unit: "us",
                value: 13.0,
                baseline: "relay",
                baseline_value: Some(10.0),
                better: Better::Lower,
            }],
            headline: vec![("rpc_p50_ratio_relay".into(), 1.3)],
            notes: vec![],
        };
        let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(v["figures"]["rpc_p50_us"]["baseline_value"], 10.0);
        assert!((v["figures"]["rpc_p50_us"]["ratio"].as_f64().unwrap() - 1.3).abs() < 1e-9);
        assert_eq!(v["rpc_p50_ratio_relay"], 1.3);
        assert!(r.to_table().contains("rpc_p50_us"));
    }
}
