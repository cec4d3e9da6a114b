//! The seller receipts name: `KEYWARD_SELLER_NAME` and `KEYWARD_SELLER_ADDRESS`.

/// The seller a receipt names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seller {
    pub name: String,
    pub address: Vec<String>,
}

impl Default for Seller {
    fn default() -> Self {
        Self {
            name: "Keyward".into(),
            address: Vec::new(),
        }
    }
}

impl Seller {
    /// From the two variables; text with control characters, or too long, is refused
    /// at start-up naming the variable.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let check = |name: &str, value: &str, max: usize| -> Result<(), String> {
            if value.chars().count() > max || value.chars().any(char::is_control) {
                return Err(format!(
                    "{name} must be at most {max} characters, without control characters"
                ));
            }
            Ok(())
        };
        let mut seller = Self::default();
        if let Some(name) = var("KEYWARD_SELLER_NAME").filter(|n| !n.trim().is_empty()) {
            check("KEYWARD_SELLER_NAME", &name, 120)?;
            seller.name = name.trim().to_string();
        }
        if let Some(address) = var("KEYWARD_SELLER_ADDRESS") {
            check("KEYWARD_SELLER_ADDRESS", &address, 500)?;
            seller.address = address
                .split(';')
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .map(str::to_string)
                .collect();
        }
        Ok(seller)
    }
}

#[cfg(test)]
mod tests {
    use super::Seller;

    #[test]
    fn the_address_splits_on_semicolons_and_control_characters_are_refused() {
        let vars = |name: &str| match name {
            "KEYWARD_SELLER_NAME" => Some(" Acme Ltd ".to_string()),
            "KEYWARD_SELLER_ADDRESS" => Some("1 Main St; ; Springfield".to_string()),
            _ => None,
        };
        let seller = Seller::from_vars(vars).unwrap();
        assert_eq!(seller.name, "Acme Ltd");
        assert_eq!(seller.address, ["1 Main St", "Springfield"]);
        assert_eq!(Seller::from_vars(|_| None).unwrap(), Seller::default());
        let bad = Seller::from_vars(|name| (name == "KEYWARD_SELLER_NAME").then(|| "a\nb".into()));
        assert!(bad.unwrap_err().contains("KEYWARD_SELLER_NAME"));
        let long =
            Seller::from_vars(|name| (name == "KEYWARD_SELLER_ADDRESS").then(|| "x".repeat(501)));
        assert!(long.is_err());
    }
}
