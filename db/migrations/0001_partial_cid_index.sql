DROP INDEX "orders_by_account_cid";--> statement-breakpoint
CREATE INDEX "orders_by_account_cid" ON "orders" USING btree ("account","cid") WHERE "orders"."cid" is not null;