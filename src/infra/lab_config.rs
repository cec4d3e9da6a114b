//! How Lab servers are metered and limited: vCPUs per server, the idle timeout, how
//! often the hub is read, and what a CPU hour past the limit costs in credits. Each
//! plan's monthly compute hours are the plans' (`infra::plans`, `lab_hours`).

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabSettings {
    /// vCPUs each server has (`KEYWARD_LAB_CPUS`): compute hours = vCPUs x hours.
    pub cpus: i64,
    /// A server idle this long is stopped (`KEYWARD_LAB_IDLE_MINUTES`).
    pub idle_minutes: i64,
    /// How often the hub's servers are read and metered (`KEYWARD_LAB_METER_SECS`).
    pub meter_secs: u64,
    /// Credits one CPU hour past the limit costs (`KEYWARD_LAB_CREDITS_PER_CPU_HOUR`).
    pub credits_per_cpu_hour: i64,
}

impl Default for LabSettings {
    fn default() -> Self {
        Self {
            cpus: 2,
            idle_minutes: 60,
            meter_secs: 30,
            credits_per_cpu_hour: 10,
        }
    }
}

fn number(
    name: &str,
    value: Option<String>,
    default: i64,
    range: (i64, i64),
) -> Result<i64, String> {
    let Some(text) = value else {
        return Ok(default);
    };
    match text.trim().parse::<i64>() {
        Ok(n) if (range.0..=range.1).contains(&n) => Ok(n),
        _ => Err(format!(
            "{name}={text:?} must be a whole number from {} to {}",
            range.0, range.1
        )),
    }
}

impl LabSettings {
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let defaults = Self::default();
        if var("KEYWARD_LAB_PLAN_HOURS").is_some() {
            return Err(
                "KEYWARD_LAB_PLAN_HOURS has moved: each plan's lab_hours is in the plans file \
                 (KEYWARD_PLANS_FILE; `keyward plans` prints the built-in ones to start from)"
                    .into(),
            );
        }
        Ok(Self {
            cpus: number(
                "KEYWARD_LAB_CPUS",
                var("KEYWARD_LAB_CPUS"),
                defaults.cpus,
                (1, 256),
            )?,
            idle_minutes: number(
                "KEYWARD_LAB_IDLE_MINUTES",
                var("KEYWARD_LAB_IDLE_MINUTES"),
                defaults.idle_minutes,
                (1, 7 * 24 * 60),
            )?,
            meter_secs: number(
                "KEYWARD_LAB_METER_SECS",
                var("KEYWARD_LAB_METER_SECS"),
                defaults.meter_secs as i64,
                (1, 3600),
            )? as u64,
            credits_per_cpu_hour: number(
                "KEYWARD_LAB_CREDITS_PER_CPU_HOUR",
                var("KEYWARD_LAB_CREDITS_PER_CPU_HOUR"),
                defaults.credits_per_cpu_hour,
                (1, 1_000_000),
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_settings_and_refuses_bad_values() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            LabSettings::from_vars(vars(&[])).unwrap(),
            LabSettings::default()
        );
        let custom = LabSettings::from_vars(vars(&[("KEYWARD_LAB_CPUS", "4")])).unwrap();
        assert_eq!(custom.cpus, 4);
        for bad in [
            ("KEYWARD_LAB_PLAN_HOURS", "free=1,standard=5,pro=10"),
            ("KEYWARD_LAB_CPUS", "0"),
            ("KEYWARD_LAB_IDLE_MINUTES", "soon"),
        ] {
            let one: &'static [(&'static str, &'static str)] = Box::leak(Box::new([bad]));
            assert!(LabSettings::from_vars(vars(one)).is_err(), "{bad:?}");
        }
    }
}
