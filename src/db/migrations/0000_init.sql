CREATE TABLE "accounts" (
	"id" serial PRIMARY KEY NOT NULL,
	"company_id" integer NOT NULL,
	"email" text NOT NULL,
	"password_hash" text,
	"role" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"removed_at" timestamp with time zone,
	CONSTRAINT "accounts_email_unique" UNIQUE("email"),
	CONSTRAINT "accounts_role_known" CHECK ("accounts"."role" in ('owner', 'member'))
);
--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" serial PRIMARY KEY NOT NULL,
	"account_id" integer NOT NULL,
	"key_hash" text NOT NULL,
	"key_prefix" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_key_hash_unique" UNIQUE("key_hash")
);
--> statement-breakpoint
CREATE TABLE "companies" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"balance" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "companies_balance_not_negative" CHECK ("companies"."balance" >= 0)
);
--> statement-breakpoint
CREATE TABLE "activations" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"company_id" integer NOT NULL,
	"account_id" integer NOT NULL,
	"service_code" text NOT NULL,
	"country_id" integer NOT NULL,
	"operator" text NOT NULL,
	"number_id" integer NOT NULL,
	"number" text NOT NULL,
	"price" bigint NOT NULL,
	"status" text NOT NULL,
	"code" text,
	"text" text,
	"idempotency_key" text,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"sms_received_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	CONSTRAINT "activations_status_known" CHECK ("activations"."status" in ('waiting', 'sms_received', 'completed', 'cancelled', 'expired'))
);
--> statement-breakpoint
CREATE TABLE "ledger_entries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"company_id" integer NOT NULL,
	"kind" text NOT NULL,
	"amount" bigint NOT NULL,
	"balance_after" bigint NOT NULL,
	"activation_id" bigint,
	"reason" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ledger_kind_known" CHECK ("ledger_entries"."kind" in ('topup', 'purchase', 'refund', 'adjustment'))
);
--> statement-breakpoint
CREATE TABLE "countries" (
	"id" integer PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"iso" text NOT NULL,
	"dial_prefix" text NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	CONSTRAINT "countries_iso_unique" UNIQUE("iso")
);
--> statement-breakpoint
CREATE TABLE "prices" (
	"service_code" text NOT NULL,
	"country_id" integer NOT NULL,
	"price" bigint NOT NULL,
	CONSTRAINT "prices_service_code_country_id_pk" PRIMARY KEY("service_code","country_id"),
	CONSTRAINT "prices_positive" CHECK ("prices"."price" > 0)
);
--> statement-breakpoint
CREATE TABLE "services" (
	"code" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL
);
--> statement-breakpoint
CREATE TABLE "number_service_uses" (
	"number_id" integer NOT NULL,
	"service_code" text NOT NULL,
	"used_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "number_service_uses_number_id_service_code_pk" PRIMARY KEY("number_id","service_code")
);
--> statement-breakpoint
CREATE TABLE "phone_numbers" (
	"id" serial PRIMARY KEY NOT NULL,
	"e164" text NOT NULL,
	"country_id" integer NOT NULL,
	"operator" text DEFAULT 'any' NOT NULL,
	"provider_id" integer NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"busy_activation_id" bigint,
	"busy_since" timestamp with time zone,
	"busy_service_code" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "phone_numbers_e164_unique" UNIQUE("e164"),
	CONSTRAINT "phone_numbers_busy_activation_id_unique" UNIQUE("busy_activation_id")
);
--> statement-breakpoint
CREATE TABLE "providers" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"secret_hash" text,
	"enabled" boolean DEFAULT true NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone,
	CONSTRAINT "providers_name_unique" UNIQUE("name"),
	CONSTRAINT "providers_secret_hash_unique" UNIQUE("secret_hash")
);
--> statement-breakpoint
CREATE TABLE "sms_messages" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"provider_id" integer NOT NULL,
	"number_id" integer,
	"to_number" text NOT NULL,
	"sender" text NOT NULL,
	"text" text NOT NULL,
	"code" text,
	"activation_id" bigint,
	"received_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_company_id_companies_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."companies"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "activations" ADD CONSTRAINT "activations_company_id_companies_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."companies"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "activations" ADD CONSTRAINT "activations_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_company_id_companies_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."companies"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "prices" ADD CONSTRAINT "prices_service_code_services_code_fk" FOREIGN KEY ("service_code") REFERENCES "public"."services"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "prices" ADD CONSTRAINT "prices_country_id_countries_id_fk" FOREIGN KEY ("country_id") REFERENCES "public"."countries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "number_service_uses" ADD CONSTRAINT "number_service_uses_number_id_phone_numbers_id_fk" FOREIGN KEY ("number_id") REFERENCES "public"."phone_numbers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "phone_numbers" ADD CONSTRAINT "phone_numbers_country_id_countries_id_fk" FOREIGN KEY ("country_id") REFERENCES "public"."countries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "phone_numbers" ADD CONSTRAINT "phone_numbers_provider_id_providers_id_fk" FOREIGN KEY ("provider_id") REFERENCES "public"."providers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sms_messages" ADD CONSTRAINT "sms_messages_provider_id_providers_id_fk" FOREIGN KEY ("provider_id") REFERENCES "public"."providers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sms_messages" ADD CONSTRAINT "sms_messages_number_id_phone_numbers_id_fk" FOREIGN KEY ("number_id") REFERENCES "public"."phone_numbers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "accounts_company_idx" ON "accounts" USING btree ("company_id");--> statement-breakpoint
CREATE INDEX "api_keys_account_idx" ON "api_keys" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "activations_company_idx" ON "activations" USING btree ("company_id","id");--> statement-breakpoint
CREATE INDEX "activations_account_idx" ON "activations" USING btree ("account_id","id");--> statement-breakpoint
CREATE INDEX "activations_open_expiry_idx" ON "activations" USING btree ("expires_at") WHERE "activations"."status" in ('waiting', 'sms_received');--> statement-breakpoint
CREATE UNIQUE INDEX "activations_idempotency_key" ON "activations" USING btree ("account_id","idempotency_key");--> statement-breakpoint
CREATE UNIQUE INDEX "activations_one_open_per_number" ON "activations" USING btree ("number_id") WHERE "activations"."status" in ('waiting', 'sms_received');--> statement-breakpoint
CREATE INDEX "ledger_company_idx" ON "ledger_entries" USING btree ("company_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_one_purchase_per_activation" ON "ledger_entries" USING btree ("activation_id") WHERE "ledger_entries"."kind" = 'purchase';--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_one_refund_per_activation" ON "ledger_entries" USING btree ("activation_id") WHERE "ledger_entries"."kind" = 'refund';--> statement-breakpoint
CREATE INDEX "phone_numbers_free_idx" ON "phone_numbers" USING btree ("country_id","operator") WHERE "phone_numbers"."busy_activation_id" is null and "phone_numbers"."enabled";--> statement-breakpoint
CREATE INDEX "phone_numbers_provider_idx" ON "phone_numbers" USING btree ("provider_id");--> statement-breakpoint
CREATE INDEX "sms_messages_activation_idx" ON "sms_messages" USING btree ("activation_id","id");--> statement-breakpoint
CREATE INDEX "sms_messages_number_idx" ON "sms_messages" USING btree ("number_id","received_at");