#!/usr/bin/env bats
# The shell is held to the same standard as the C: every script shellcheck-clean.
load helpers

@test "every shell script is shellcheck-clean" {
	cd "$PM_ROOT"
	mapfile -t scripts < <(grep -rlE '^#!/usr/bin/env bash|^# shellcheck shell=bash' bin pipelines scripts tests/run tests/bench tests/fuzz)
	[ "${#scripts[@]}" -ge 10 ]
	run shellcheck -x "${scripts[@]}"
	assert_success
	assert_output ''
}

@test "pipelines/ name no table, key map or move of the site: what they know of tables comes from the plan" {
	cd "$PM_ROOT"
	# Every name the shipped plan gives: moves, sources, targets, key maps and their tables.
	mapfile -t names < <(pm-plan -p schemas/portal.plan moves |
		awk -F '\t' '{ print $1; print $2; print $3 } $7 != "-" { print $7; print "keymap_" $7 }')
	assert_equal "${#names[@]}" 8
	patterns=()
	for n in "${names[@]}"; do
		patterns+=(-e "$n")
	done
	run grep -rnwF "${patterns[@]}" pipelines
	assert_output ''
	assert_failure 1
	# The test can fail: the same search finds them in the plan's own files.
	run grep -rlwF "${patterns[@]}" schemas
	assert_success
}
