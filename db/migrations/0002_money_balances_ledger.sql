CREATE TABLE "balances" (
	"account" text NOT NULL,
	"asset" text NOT NULL,
	"available" bigint NOT NULL,
	"hold" bigint NOT NULL,
	"updated_seq" bigint NOT NULL,
	CONSTRAINT "balances_pkey" PRIMARY KEY("account","asset"),
	CONSTRAINT "balances_amounts_check" CHECK ("balances"."available" >= 0 and "balances"."hold" >= 0)
);
--> statement-breakpoint
CREATE TABLE "ledger" (
	"seq" bigint NOT NULL,
	"event_index" integer NOT NULL,
	"leg" integer NOT NULL,
	"account" text NOT NULL,
	"asset" text NOT NULL,
	"kind" text NOT NULL,
	"amount" bigint NOT NULL,
	"market" text,
	"trade_id" bigint,
	"ref" text,
	"ts" bigint NOT NULL,
	CONSTRAINT "ledger_pkey" PRIMARY KEY("seq","event_index","leg"),
	CONSTRAINT "ledger_kind_check" CHECK (kind in ('deposit', 'withdraw', 'trade', 'fee')),
	CONSTRAINT "ledger_amount_check" CHECK ("ledger"."amount" <> 0)
);
--> statement-breakpoint
CREATE INDEX "ledger_by_account_asset_seq" ON "ledger" USING btree ("account","asset","seq");