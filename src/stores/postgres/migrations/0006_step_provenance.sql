-- 0006_step_provenance: where a step's output came from, and what validate answered.
-- The same columns as the SQLite adapter's 0006_step_provenance, translated.
--
-- output_source: run (its code ran), validate (validate answered complete: the end system had
-- it done), original (a replay reused the original's output), supplied (an operator gave it on
-- replay; supplied_by is who). NULL on rows written before this migration, and until a step
-- completes.
ALTER TABLE steps ADD COLUMN output_source TEXT;
ALTER TABLE steps ADD COLUMN supplied_by TEXT;
-- validate's last answer for the step: which attempt it judged, complete | retry | error, when.
ALTER TABLE steps ADD COLUMN validated_attempt INTEGER;
ALTER TABLE steps ADD COLUMN validated_outcome TEXT;
ALTER TABLE steps ADD COLUMN validated_at BIGINT;

-- Outputs an operator supplied on replay for steps the original never recorded (JSON
-- { actor, outputs: { step name: output as JSON text } }): the replay records each when its
-- run reaches that step, before fromStep.
ALTER TABLE executions ADD COLUMN supplied_outputs TEXT;
