//! The plans people choose from: configuration, not code. Built in are Free, Standard
//! and Pro; `KEYWARD_PLANS_FILE` names a TOML file that replaces them (`keyward plans`
//! prints the plans in force in that format). A plan has an id, a name, a monthly and
//! an optional yearly price, the credits each paid period includes, the Lab's monthly
//! compute hours, and a short feature list for the page.

use super::money::{format_money, parse_money};
use serde::Deserialize;

/// Most plans a catalog may hold.
pub const MAX_PLANS: usize = 12;
/// Most features a plan lists.
pub const MAX_FEATURES: usize = 8;
const MAX_PRICE_MINOR: i64 = 100_000_000;
const MAX_INCLUDED_CREDITS: i64 = 1_000_000_000_000;
const MAX_LAB_HOURS: i64 = 1_000_000;

/// One plan, prices in the currency's minor units.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanSpec {
    /// Lowercase letters, digits and `-`: what `keyward plan set` and the API say.
    pub id: String,
    pub name: String,
    pub monthly_price_minor: i64,
    /// None: the plan is paid monthly only.
    pub yearly_price_minor: Option<i64>,
    /// Credits granted with each paid period; they expire at its end.
    pub included_credits: i64,
    /// The Lab's compute hours (vCPU hours) each calendar month.
    pub lab_hours: i64,
    pub features: Vec<String>,
}

impl PlanSpec {
    pub fn is_free(&self) -> bool {
        self.monthly_price_minor == 0 && self.yearly_price_minor.unwrap_or(0) == 0
    }
}

/// Every plan, in the order the page shows them; one of them is `free`, the plan of
/// everyone who pays for none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanCatalog {
    plans: Vec<PlanSpec>,
}

/// The id of the plan everyone is on until they pay for another.
pub const FREE: &str = "free";

impl Default for PlanCatalog {
    fn default() -> Self {
        let plan =
            |id: &str, name: &str, monthly, yearly, credits, hours, features: &[&str]| PlanSpec {
                id: id.into(),
                name: name.into(),
                monthly_price_minor: monthly,
                yearly_price_minor: yearly,
                included_credits: credits,
                lab_hours: hours,
                features: features.iter().map(|f| f.to_string()).collect(),
            };
        Self {
            plans: vec![
                plan(
                    FREE,
                    "Free",
                    0,
                    None,
                    0,
                    25,
                    &["25 Lab compute hours a month", "Pay as you go with credits"],
                ),
                plan(
                    "standard",
                    "Standard",
                    2_000,
                    Some(20_000),
                    2_000,
                    400,
                    &[
                        "2,000 credits included each period",
                        "400 Lab compute hours a month",
                    ],
                ),
                plan(
                    "pro",
                    "Pro",
                    8_000,
                    Some(80_000),
                    10_000,
                    2_000,
                    &[
                        "10,000 credits included each period",
                        "2,000 Lab compute hours a month",
                    ],
                ),
            ],
        }
    }
}

/// The file's shape: `[[plan]]` tables.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlansFile {
    #[serde(default)]
    plan: Vec<PlanEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanEntry {
    id: String,
    name: String,
    monthly_price: String,
    yearly_price: Option<String>,
    #[serde(default)]
    included_credits: i64,
    lab_hours: i64,
    #[serde(default)]
    features: Vec<String>,
}

impl PlanCatalog {
    /// Reads a plans file's text; prices are money in `currency` ("20.00").
    pub fn from_toml(text: &str, currency: &str) -> Result<Self, String> {
        let file: PlansFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut plans = Vec::with_capacity(file.plan.len());
        for entry in file.plan {
            plans.push(entry.check(currency)?);
        }
        Self::new(plans)
    }

    /// The plans in `KEYWARD_PLANS_FILE`, or the built-in ones when it is not set.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>, currency: &str) -> Result<Self, String> {
        let Some(path) = var("KEYWARD_PLANS_FILE") else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("KEYWARD_PLANS_FILE={path:?}: {e}"))?;
        Self::from_toml(&text, currency).map_err(|e| format!("KEYWARD_PLANS_FILE={path:?}: {e}"))
    }

    /// Checks a list of plans as a whole: at most `MAX_PLANS`, unique ids, and a free
    /// plan with the id `free`.
    pub fn new(plans: Vec<PlanSpec>) -> Result<Self, String> {
        if plans.is_empty() || plans.len() > MAX_PLANS {
            return Err(format!(
                "a plans file holds 1 to {MAX_PLANS} [[plan]] tables"
            ));
        }
        for (i, plan) in plans.iter().enumerate() {
            if plans[..i].iter().any(|p| p.id == plan.id) {
                return Err(format!("the plan id {:?} is used twice", plan.id));
            }
        }
        match plans.iter().find(|p| p.id == FREE) {
            Some(free) if free.is_free() => {}
            Some(_) => return Err("the plan \"free\" must cost nothing".into()),
            None => {
                return Err(
                    "one plan must have the id \"free\": the plan of everyone who pays for none"
                        .into(),
                )
            }
        }
        Ok(Self { plans })
    }

    pub fn all(&self) -> &[PlanSpec] {
        &self.plans
    }

    pub fn get(&self, id: &str) -> Option<&PlanSpec> {
        self.plans.iter().find(|p| p.id == id)
    }

    /// A plan typed by a person or an operator, in any case.
    pub fn find(&self, text: &str) -> Option<&PlanSpec> {
        let text = text.trim();
        self.plans.iter().find(|p| p.id.eq_ignore_ascii_case(text))
    }

    /// The free plan (always there: `new` checks it).
    pub fn free(&self) -> &PlanSpec {
        self.get(FREE).unwrap_or(&self.plans[0])
    }

    /// `id`'s plan, or the free plan for an id the catalog no longer has (a plan the
    /// operator removed): nobody keeps paid limits for a plan that is gone.
    pub fn or_free(&self, id: &str) -> &PlanSpec {
        self.get(id).unwrap_or_else(|| self.free())
    }

    /// "free, standard or pro", for messages.
    pub fn ids_listed(&self) -> String {
        let ids: Vec<&str> = self.plans.iter().map(|p| p.id.as_str()).collect();
        match ids.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => ids.join(""),
        }
    }

    /// The catalog as a plans file (`keyward plans`): what an operator copies to start
    /// their own.
    pub fn to_toml(&self, currency: &str) -> String {
        let money = |minor: i64| {
            let shown = format_money(minor, currency);
            // "$20.00" → "20.00"; "20.00 CHF" → "20.00".
            shown
                .trim_start_matches(|c: char| !c.is_ascii_digit())
                .split(' ')
                .next()
                .unwrap_or_default()
                .replace(',', "")
        };
        let quoted = |text: &str| toml_string(text);
        let mut out = format!(
            "# Plans, as KEYWARD_PLANS_FILE reads them. Prices are in {}.\n",
            currency.to_ascii_uppercase()
        );
        for plan in &self.plans {
            out.push_str("\n[[plan]]\n");
            out.push_str(&format!("id = {}\n", quoted(&plan.id)));
            out.push_str(&format!("name = {}\n", quoted(&plan.name)));
            out.push_str(&format!(
                "monthly_price = {}\n",
                quoted(&money(plan.monthly_price_minor))
            ));
            if let Some(yearly) = plan.yearly_price_minor {
                out.push_str(&format!("yearly_price = {}\n", quoted(&money(yearly))));
            }
            out.push_str(&format!("included_credits = {}\n", plan.included_credits));
            out.push_str(&format!("lab_hours = {}\n", plan.lab_hours));
            let features: Vec<String> = plan.features.iter().map(|f| quoted(f)).collect();
            out.push_str(&format!("features = [{}]\n", features.join(", ")));
        }
        out
    }
}

/// A TOML basic string: quotes and backslashes escaped, control characters as `\uXXXX`.
fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl PlanEntry {
    fn check(self, currency: &str) -> Result<PlanSpec, String> {
        let id = self.id.trim().to_string();
        let valid_id = (1..=32).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid_id {
            return Err(format!(
                "plan id {:?}: 1 to 32 lowercase letters, digits or '-'",
                self.id
            ));
        }
        let text_ok = |text: &str, max: usize| {
            let chars = text.chars().count();
            (1..=max).contains(&chars) && !text.chars().any(char::is_control)
        };
        let name = self.name.trim().to_string();
        if !text_ok(&name, 40) {
            return Err(format!(
                "plan {id}: name is 1 to 40 characters, no control characters"
            ));
        }
        let price = |field: &str, text: &str| -> Result<i64, String> {
            parse_money(text, currency)
                .filter(|minor| *minor <= MAX_PRICE_MINOR)
                .ok_or_else(|| {
                    format!(
                        "plan {id}: {field} is an amount of money such as \"20.00\", not {text:?}"
                    )
                })
        };
        let monthly_price_minor = price("monthly_price", &self.monthly_price)?;
        let yearly_price_minor = match &self.yearly_price {
            Some(text) => Some(price("yearly_price", text)?),
            None => None,
        };
        if id != FREE && (monthly_price_minor == 0 || yearly_price_minor == Some(0)) {
            return Err(format!(
                "plan {id}: only the plan \"free\" costs nothing; give it a monthly_price (and a yearly_price above 0, or none)"
            ));
        }
        if !(0..=MAX_INCLUDED_CREDITS).contains(&self.included_credits) {
            return Err(format!(
                "plan {id}: included_credits is 0 to {MAX_INCLUDED_CREDITS}"
            ));
        }
        if !(0..=MAX_LAB_HOURS).contains(&self.lab_hours) {
            return Err(format!("plan {id}: lab_hours is 0 to {MAX_LAB_HOURS}"));
        }
        if self.features.len() > MAX_FEATURES {
            return Err(format!("plan {id}: at most {MAX_FEATURES} features"));
        }
        let mut features = Vec::with_capacity(self.features.len());
        for feature in self.features {
            let feature = feature.trim().to_string();
            if !text_ok(&feature, 80) {
                return Err(format!(
                    "plan {id}: each feature is 1 to 80 characters, no control characters"
                ));
            }
            features.push(feature);
        }
        Ok(PlanSpec {
            id,
            name,
            monthly_price_minor,
            yearly_price_minor,
            included_credits: self.included_credits,
            lab_hours: self.lab_hours,
            features,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_plans_are_the_documented_ones() {
        let plans = PlanCatalog::default();
        let row = |id: &str| {
            let p = plans.get(id).expect(id);
            (
                p.monthly_price_minor,
                p.yearly_price_minor,
                p.included_credits,
                p.lab_hours,
            )
        };
        assert_eq!(row("free"), (0, None, 0, 25));
        assert_eq!(row("standard"), (2_000, Some(20_000), 2_000, 400));
        assert_eq!(row("pro"), (8_000, Some(80_000), 10_000, 2_000));
        assert_eq!(plans.ids_listed(), "free, standard or pro");
        assert_eq!(plans.find(" Pro ").map(|p| p.id.as_str()), Some("pro"));
        assert_eq!(plans.or_free("gone").id, "free");
    }

    #[test]
    fn what_keyward_plans_prints_reads_back_as_the_same_plans() {
        for currency in ["usd", "jpy", "kwd"] {
            let mut plans = PlanCatalog::default();
            plans.plans[1]
                .features
                .push("Quotes \" and \\ survive".into());
            let text = plans.to_toml(currency);
            let read =
                PlanCatalog::from_toml(&text, currency).unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(read, plans, "{currency}:\n{text}");
        }
    }

    #[test]
    fn a_bad_plans_file_says_what_is_wrong() {
        let free =
            "[[plan]]\nid = \"free\"\nname = \"Free\"\nmonthly_price = \"0\"\nlab_hours = 5\n";
        let cases = [
            ("", "1 to 12"),
            ("[[plan]]\nid = \"basic\"\nname = \"B\"\nmonthly_price = \"5\"\nlab_hours = 5\n", "the id \"free\""),
            (&format!("{free}{free}") as &str, "used twice"),
            (&free.replace("\"0\"", "\"1.00\""), "must cost nothing"),
            (&free.replace("id = \"free\"", "id = \"Free Plan\"") as &str, "lowercase"),
            (&free.replace("lab_hours = 5", "lab_hours = -1"), "lab_hours"),
            (&free.replace("lab_hours = 5", "lab_hours = 5\ncolour = \"red\""), "unknown field"),
            (&format!("{free}[[plan]]\nid = \"pro\"\nname = \"Pro\"\nmonthly_price = \"0\"\nlab_hours = 5\n"), "only the plan \"free\""),
            (&format!("{free}[[plan]]\nid = \"pro\"\nname = \"Pro\"\nmonthly_price = \"five\"\nlab_hours = 5\n"), "amount of money"),
            (&format!("{free}[[plan]]\nid = \"pro\"\nname = \"Pro\"\nmonthly_price = \"5\"\nyearly_price = \"0\"\nlab_hours = 5\n"), "only the plan \"free\""),
            (&free.replace("name = \"Free\"", "name = \"a\\u0000b\""), "control"),
        ];
        for (text, wanted) in cases {
            let error = PlanCatalog::from_toml(text, "usd").expect_err(text);
            assert!(error.contains(wanted), "{text:?}: {error}");
        }
        assert!(PlanCatalog::from_toml(free, "usd").is_ok());
    }
}
