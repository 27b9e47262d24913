# The few commands a person runs. Each is a script in scripts/, usable without make too.
.PHONY: run test format lint

run:
	scripts/run

test:
	scripts/test

format:
	scripts/format

lint:
	scripts/format --check
