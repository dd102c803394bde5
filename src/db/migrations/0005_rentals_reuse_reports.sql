CREATE TABLE "activation_reports" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"activation_id" bigint NOT NULL,
	"company_id" integer NOT NULL,
	"account_id" integer NOT NULL,
	"number_id" integer NOT NULL,
	"provider_id" integer,
	"service_code" text NOT NULL,
	"reason" text NOT NULL,
	"note" text,
	"refunded" boolean NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "activation_reports_reason_known" CHECK ("activation_reports"."reason" in ('used', 'blocked', 'no_sms', 'other'))
);
--> statement-breakpoint
CREATE TABLE "rental_prices" (
	"country_id" integer NOT NULL,
	"operator" text DEFAULT 'any' NOT NULL,
	"price_per_hour" bigint NOT NULL,
	"price_per_day" bigint NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "rental_prices_country_id_operator_pk" PRIMARY KEY("country_id","operator"),
	CONSTRAINT "rental_prices_positive" CHECK ("rental_prices"."price_per_hour" > 0 and "rental_prices"."price_per_day" > 0)
);
--> statement-breakpoint
CREATE TABLE "rentals" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"company_id" integer NOT NULL,
	"account_id" integer NOT NULL,
	"country_id" integer NOT NULL,
	"operator" text NOT NULL,
	"number_id" integer NOT NULL,
	"number" text NOT NULL,
	"price" bigint NOT NULL,
	"hours" integer NOT NULL,
	"status" text NOT NULL,
	"idempotency_key" text,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"first_sms_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	CONSTRAINT "rentals_status_known" CHECK ("rentals"."status" in ('active', 'finished', 'cancelled', 'expired')),
	CONSTRAINT "rentals_hours_positive" CHECK ("rentals"."hours" > 0)
);
--> statement-breakpoint
DROP INDEX "phone_numbers_sellable_idx";--> statement-breakpoint
DROP INDEX "phone_numbers_sellable_operator_idx";--> statement-breakpoint
ALTER TABLE "activations" ADD COLUMN "reused_from" bigint;--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD COLUMN "rental_id" bigint;--> statement-breakpoint
ALTER TABLE "phone_numbers" ADD COLUMN "busy_rental_id" bigint;--> statement-breakpoint
ALTER TABLE "phone_numbers" ADD COLUMN "rentable" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "sms_messages" ADD COLUMN "rental_id" bigint;--> statement-breakpoint
ALTER TABLE "activation_reports" ADD CONSTRAINT "activation_reports_company_id_companies_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."companies"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "activation_reports" ADD CONSTRAINT "activation_reports_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rental_prices" ADD CONSTRAINT "rental_prices_country_id_countries_id_fk" FOREIGN KEY ("country_id") REFERENCES "public"."countries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rentals" ADD CONSTRAINT "rentals_company_id_companies_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."companies"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rentals" ADD CONSTRAINT "rentals_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rentals" ADD CONSTRAINT "rentals_number_id_phone_numbers_id_fk" FOREIGN KEY ("number_id") REFERENCES "public"."phone_numbers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "activation_reports_one_per_activation" ON "activation_reports" USING btree ("activation_id");--> statement-breakpoint
CREATE INDEX "activation_reports_company_idx" ON "activation_reports" USING btree ("company_id","created_at");--> statement-breakpoint
CREATE INDEX "activation_reports_created_idx" ON "activation_reports" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "activation_reports_provider_idx" ON "activation_reports" USING btree ("provider_id","created_at");--> statement-breakpoint
CREATE INDEX "rentals_company_idx" ON "rentals" USING btree ("company_id","id");--> statement-breakpoint
CREATE INDEX "rentals_account_idx" ON "rentals" USING btree ("account_id","id");--> statement-breakpoint
CREATE INDEX "rentals_active_expiry_idx" ON "rentals" USING btree ("expires_at") WHERE "rentals"."status" = 'active';--> statement-breakpoint
CREATE UNIQUE INDEX "rentals_idempotency_key" ON "rentals" USING btree ("account_id","idempotency_key");--> statement-breakpoint
CREATE UNIQUE INDEX "rentals_one_active_per_number" ON "rentals" USING btree ("number_id") WHERE "rentals"."status" = 'active';--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_one_refund_per_rental" ON "ledger_entries" USING btree ("rental_id") WHERE "ledger_entries"."kind" = 'refund';--> statement-breakpoint
CREATE INDEX "phone_numbers_rentable_idx" ON "phone_numbers" USING btree ("country_id","operator") WHERE "phone_numbers"."rentable" and "phone_numbers"."busy_activation_id" is null and "phone_numbers"."busy_rental_id" is null and "phone_numbers"."enabled" and "phone_numbers"."retired_at" is null;--> statement-breakpoint
CREATE INDEX "sms_messages_rental_idx" ON "sms_messages" USING btree ("rental_id","id");--> statement-breakpoint
CREATE INDEX "phone_numbers_sellable_idx" ON "phone_numbers" USING btree ("country_id",(("id"::bigint * 2654435761) % 4294967296)) WHERE "phone_numbers"."busy_activation_id" is null and "phone_numbers"."busy_rental_id" is null and "phone_numbers"."enabled" and "phone_numbers"."retired_at" is null;--> statement-breakpoint
CREATE INDEX "phone_numbers_sellable_operator_idx" ON "phone_numbers" USING btree ("country_id","operator",(("id"::bigint * 2654435761) % 4294967296)) WHERE "phone_numbers"."busy_activation_id" is null and "phone_numbers"."busy_rental_id" is null and "phone_numbers"."enabled" and "phone_numbers"."retired_at" is null;--> statement-breakpoint
ALTER TABLE "phone_numbers" ADD CONSTRAINT "phone_numbers_busy_rental_id_unique" UNIQUE("busy_rental_id");