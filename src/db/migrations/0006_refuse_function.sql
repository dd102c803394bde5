-- A statement that must fail as a whole calls this: it raises SQLSTATE NV001 with `reason` as the
-- message. The last statement of a transaction whose COMMIT is sent right behind it (see
-- lastStatementOf in src/db/database.ts) cannot refuse by returning no row, because the COMMIT
-- would then keep what the transaction did before; an error turns that COMMIT into a ROLLBACK.
CREATE FUNCTION nova_refuse(reason text) RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'NV001', MESSAGE = reason;
END
$$;
