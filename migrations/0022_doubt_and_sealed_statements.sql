-- Whether an operator doubts what the account proved (restricted, or suspended for false
-- information), kept as a fact of the account rather than read from its state: a restricted
-- account that asks to cancel, or comes back from a suspension, is still in doubt until an
-- operator lifts it. whoami vouches for no proofing flag while it is set.
ALTER TABLE accounts ADD COLUMN in_doubt_since timestamptz;
UPDATE accounts SET in_doubt_since = updated_at WHERE state IN ('restricted', 'suspended');
UPDATE accounts a SET in_doubt_since = a.updated_at
WHERE a.state = 'cancellation_pending'
  AND (SELECT c.from_state FROM account_state_changes c
       WHERE c.account_id = a.id AND c.to_state = 'cancellation_pending'
       ORDER BY c.id DESC LIMIT 1) = 'restricted';

-- Correction statements showed their first 60 characters to every case worker in the masked
-- column; the sealed value stays, the clear prefix goes.
UPDATE review_case_evidence e SET masked = 'statement'
FROM review_cases c
WHERE c.id = e.case_id AND c.case_type = 'data_correction' AND e.name = 'statement';
