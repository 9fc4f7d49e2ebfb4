-- A timelocked commit's reveal, confirmed from the chain: '' while not
-- known, 'revealed' (the committed vector became the uid's weights in its
-- reveal epoch) or 'dropped' (the epoch passed without it: subtensor drops
-- a reveal that fails silently). reveal_epoch and reveal_block are the
-- predicted reveal epoch and its first block.
ALTER TABLE weight_submissions ADD COLUMN reveal_epoch BIGINT;
ALTER TABLE weight_submissions ADD COLUMN reveal_block BIGINT;
ALTER TABLE weight_submissions ADD COLUMN reveal TEXT NOT NULL DEFAULT '';
