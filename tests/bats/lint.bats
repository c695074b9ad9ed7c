#!/usr/bin/env bats
# The shell is held to the same standard as the C: every script shellcheck-clean.
load helpers

@test "every shell script is shellcheck-clean" {
	cd "$PM_ROOT"
	mapfile -t scripts < <(grep -rlE '^#!/usr/bin/env bash|^# shellcheck shell=bash' pipelines scripts tests/run tests/bench tests/fuzz)
	[ "${#scripts[@]}" -ge 10 ]
	run shellcheck -x "${scripts[@]}"
	assert_success
	assert_output ''
}
