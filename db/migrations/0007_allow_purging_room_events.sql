-- The retention service (RetentionService) deletes room events once they are a week old; the service's role could
-- only insert and update them. Idempotency keys it could already delete.
GRANT DELETE ON call_room_events TO talktime_app;
