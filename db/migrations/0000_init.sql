CREATE TABLE "accounts" (
	"account" text PRIMARY KEY NOT NULL,
	"first_seq" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "markets" (
	"sym" text PRIMARY KEY NOT NULL,
	"base" text,
	"quote" text,
	"px_decimals" integer,
	"qty_decimals" integer,
	"first_seq" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "orders" (
	"market" text NOT NULL,
	"order_id" bigint NOT NULL,
	"account" text NOT NULL,
	"cid" text,
	"side" text NOT NULL,
	"kind" text NOT NULL,
	"tif" text NOT NULL,
	"post" boolean NOT NULL,
	"price" bigint,
	"qty" bigint NOT NULL,
	"filled" bigint NOT NULL,
	"status" text NOT NULL,
	"reason" text,
	"created_seq" bigint NOT NULL,
	"updated_seq" bigint NOT NULL,
	"created_ts" bigint NOT NULL,
	"updated_ts" bigint NOT NULL,
	CONSTRAINT "orders_pkey" PRIMARY KEY("market","order_id"),
	CONSTRAINT "orders_side_check" CHECK ("orders"."side" in ('buy', 'sell')),
	CONSTRAINT "orders_kind_check" CHECK ("orders"."kind" in ('limit', 'market')),
	CONSTRAINT "orders_tif_check" CHECK ("orders"."tif" in ('gtc', 'ioc', 'fok')),
	CONSTRAINT "orders_status_check" CHECK ("orders"."status" in ('new', 'partial', 'filled', 'canceled')),
	CONSTRAINT "orders_price_check" CHECK ("orders"."price" is null or "orders"."price" > 0),
	CONSTRAINT "orders_qty_check" CHECK ("orders"."qty" > 0 and "orders"."filled" >= 0 and "orders"."filled" <= "orders"."qty"),
	CONSTRAINT "orders_seq_check" CHECK ("orders"."updated_seq" >= "orders"."created_seq")
);
--> statement-breakpoint
CREATE TABLE "sink_progress" (
	"sink" text PRIMARY KEY NOT NULL,
	"applied_seq" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "trades" (
	"market" text NOT NULL,
	"trade_id" bigint NOT NULL,
	"price" bigint NOT NULL,
	"qty" bigint NOT NULL,
	"maker_order_id" bigint NOT NULL,
	"taker_order_id" bigint NOT NULL,
	"maker_account" text NOT NULL,
	"taker_account" text NOT NULL,
	"taker_side" text NOT NULL,
	"seq" bigint NOT NULL,
	"ts" bigint NOT NULL,
	CONSTRAINT "trades_pkey" PRIMARY KEY("market","trade_id"),
	CONSTRAINT "trades_price_check" CHECK ("trades"."price" > 0),
	CONSTRAINT "trades_qty_check" CHECK ("trades"."qty" > 0),
	CONSTRAINT "trades_taker_side_check" CHECK ("trades"."taker_side" in ('buy', 'sell'))
);
--> statement-breakpoint
CREATE INDEX "orders_open_by_account" ON "orders" USING btree ("account","market","order_id") WHERE "orders"."status" in ('new', 'partial');--> statement-breakpoint
CREATE INDEX "orders_by_account_cid" ON "orders" USING btree ("account","cid");--> statement-breakpoint
CREATE INDEX "trades_by_maker_account_ts" ON "trades" USING btree ("maker_account","ts");--> statement-breakpoint
CREATE INDEX "trades_by_taker_account_ts" ON "trades" USING btree ("taker_account","ts");