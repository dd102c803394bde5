ALTER TABLE "number_rentals" DROP CONSTRAINT "number_rentals_provider_id_providers_id_fk";
