ALTER TABLE "email_outbox" ADD COLUMN "claimed_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "providers" ADD COLUMN "stock_claimed_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "remote_leases" ADD COLUMN "claimed_until" timestamp with time zone;