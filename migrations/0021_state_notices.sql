-- Which notice each account state change sent to the person (its e-mail template; NULL when the
-- change tells nobody), so the history shows what the person was told and when.
ALTER TABLE account_state_changes ADD COLUMN notice text;
