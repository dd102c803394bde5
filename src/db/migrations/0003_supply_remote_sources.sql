CREATE TABLE "remote_leases" (
	"id" serial PRIMARY KEY NOT NULL,
	"provider_id" integer NOT NULL,
	"number_id" integer NOT NULL,
	"remote_id" text NOT NULL,
	"activation_id" bigint,
	"finish_status" text,
	"notified_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "remote_leases_activation_id_unique" UNIQUE("activation_id")
);
--> statement-breakpoint
CREATE TABLE "remote_stock" (
	"provider_id" integer NOT NULL,
	"country_id" integer NOT NULL,
	"operator" text NOT NULL,
	"service_code" text NOT NULL,
	"available" integer NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "remote_stock_provider_id_country_id_operator_service_code_pk" PRIMARY KEY("provider_id","country_id","operator","service_code")
);
--> statement-breakpoint
ALTER TABLE "remote_leases" ADD CONSTRAINT "remote_leases_provider_id_providers_id_fk" FOREIGN KEY ("provider_id") REFERENCES "public"."providers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "remote_leases" ADD CONSTRAINT "remote_leases_number_id_phone_numbers_id_fk" FOREIGN KEY ("number_id") REFERENCES "public"."phone_numbers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "remote_stock" ADD CONSTRAINT "remote_stock_provider_id_providers_id_fk" FOREIGN KEY ("provider_id") REFERENCES "public"."providers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "remote_stock" ADD CONSTRAINT "remote_stock_country_id_countries_id_fk" FOREIGN KEY ("country_id") REFERENCES "public"."countries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "remote_leases_pending_idx" ON "remote_leases" USING btree ("id") WHERE "remote_leases"."finish_status" is not null and "remote_leases"."notified_at" is null;--> statement-breakpoint
CREATE INDEX "remote_leases_number_idx" ON "remote_leases" USING btree ("number_id");