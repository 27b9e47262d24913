-- A participant who reconnects to a call's room (a fresh token from GET /v1/calls/{id}/token, after a network
-- change or an app restart) joins again under the same identity in a new session, and LiveKit then ends the old
-- session with a participant_left. That departure must not end the call. The room's events now keep whose
-- session they were about, so a departure can be weighed against the sessions of the same participant that
-- joined and have not left, in whatever order the deliveries arrive.
ALTER TABLE call_room_events
    ADD COLUMN participant_identity text CHECK (length(participant_identity) <= 255),
    ADD COLUMN participant_session text CHECK (length(participant_session) <= 128);

-- A call's participant events, read at every departure (and by the call's cascade on delete).
CREATE INDEX call_room_events_call ON call_room_events (call_id, participant_identity) WHERE call_id IS NOT NULL;

-- Reconciliation (the billing engine asking LiveKit who is in the room of a call whose events may have been lost)
-- ends a call whose room holds neither party. One party missing may be a reconnect in progress, so the first check
-- that finds it only notes the time here; a call still missing a party at the next check ends.
ALTER TABLE calls ADD COLUMN party_missing_since timestamptz;
