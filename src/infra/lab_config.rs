//! How Lab servers are metered and limited: vCPUs per server, the plans' monthly
//! compute hours, the idle timeout, how often the hub is read, and what a CPU hour
//! past the limit costs in credits.

/// Monthly compute hours (vCPU hours) per plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanHours {
    pub free: i64,
    pub standard: i64,
    pub pro: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabSettings {
    /// vCPUs each server has (`KEYWARD_LAB_CPUS`): compute hours = vCPUs x hours.
    pub cpus: i64,
    /// A server idle this long is stopped (`KEYWARD_LAB_IDLE_MINUTES`).
    pub idle_minutes: i64,
    /// How often the hub's servers are read and metered (`KEYWARD_LAB_METER_SECS`).
    pub meter_secs: u64,
    /// `KEYWARD_LAB_PLAN_HOURS`, e.g. `free=25,standard=400,pro=2000`.
    pub plan_hours: PlanHours,
    /// Credits one CPU hour past the limit costs (`KEYWARD_LAB_CREDITS_PER_CPU_HOUR`).
    pub credits_per_cpu_hour: i64,
}

impl Default for LabSettings {
    fn default() -> Self {
        Self {
            cpus: 2,
            idle_minutes: 60,
            meter_secs: 30,
            plan_hours: PlanHours {
                free: 25,
                standard: 400,
                pro: 2_000,
            },
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

fn plan_hours(text: &str) -> Result<PlanHours, String> {
    let wrong = || {
        format!(
            "KEYWARD_LAB_PLAN_HOURS={text:?} must name each plan's monthly hours, e.g. free=25,standard=400,pro=2000"
        )
    };
    let mut hours = [None; 3];
    for part in text.split(',') {
        let (name, value) = part.split_once('=').ok_or_else(wrong)?;
        let slot = match name.trim() {
            "free" => 0,
            "standard" => 1,
            "pro" => 2,
            _ => return Err(wrong()),
        };
        let value: i64 = value.trim().parse().map_err(|_| wrong())?;
        if !(0..=1_000_000).contains(&value) {
            return Err(wrong());
        }
        hours[slot] = Some(value);
    }
    match hours {
        [Some(free), Some(standard), Some(pro)] => Ok(PlanHours {
            free,
            standard,
            pro,
        }),
        _ => Err(wrong()),
    }
}

impl LabSettings {
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let defaults = Self::default();
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
            plan_hours: match var("KEYWARD_LAB_PLAN_HOURS") {
                None => defaults.plan_hours,
                Some(text) => plan_hours(&text)?,
            },
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
    fn reads_plans_and_refuses_bad_values() {
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
        let custom = LabSettings::from_vars(vars(&[
            ("KEYWARD_LAB_PLAN_HOURS", "pro=10, free=1,standard=5"),
            ("KEYWARD_LAB_CPUS", "4"),
        ]))
        .unwrap();
        assert_eq!(
            custom.plan_hours,
            PlanHours {
                free: 1,
                standard: 5,
                pro: 10
            }
        );
        assert_eq!(custom.cpus, 4);
        for bad in [
            ("KEYWARD_LAB_PLAN_HOURS", "free=1,standard=5"),
            ("KEYWARD_LAB_PLAN_HOURS", "free=1,standard=5,pro=x"),
            ("KEYWARD_LAB_PLAN_HOURS", "gold=1"),
            ("KEYWARD_LAB_CPUS", "0"),
            ("KEYWARD_LAB_IDLE_MINUTES", "soon"),
        ] {
            let one: &'static [(&'static str, &'static str)] = Box::leak(Box::new([bad]));
            assert!(LabSettings::from_vars(vars(one)).is_err(), "{bad:?}");
        }
    }
}
