-- What each subscription is billed per period, as its price says (a price change in the
-- plans file makes a new price; subscribers keep theirs): what revenue and the page show.
ALTER TABLE subscriptions ADD COLUMN price_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE subscriptions ADD COLUMN price_currency TEXT NOT NULL DEFAULT '';
