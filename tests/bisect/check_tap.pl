#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# Read v.ktap as plain TAP with TAP::Parser (what prove uses). ktap.rst
# says KTAP should also be valid TAP: a TAP consumer sees the three levels
# as tests (the indented subtests are lines it does not know, which TAP
# allows) and must find no parse error.
use strict;
use warnings;
use JSON::PP;
use TAP::Parser;

my $dir = shift or die "usage: check_tap.pl DIR\n";
sub slurp { local $/; open my $f, '<:raw', $_[0] or die "$_[0]: $!\n"; return <$f>; }
my $v = JSON::PP->new->utf8->decode(slurp("$dir/v.json"));

my (@levels, %status);
for my $s (@{ $v->{stages} }) {
	push @levels, $s->{level} unless @levels && $levels[-1] eq $s->{level};
	push @{ $status{ $s->{level} } }, $s->{status};
}

my @problems;
my $p = TAP::Parser->new({ tap => slurp("$dir/v.ktap") });
my @tests;
while (my $r = $p->next) {
	push @tests, $r if $r->is_test;
	# Only the three level results may be read as tests or plans.
	push @problems, "indented line read as TAP: " . $r->as_string
		if ($r->is_test || $r->is_plan) && $r->raw =~ /^\s/;
}
push @problems, "parse error: $_" for $p->parse_errors;
push @problems, "planned " . ($p->tests_planned // 'none') . ", want " . scalar @levels
	unless ($p->tests_planned // -1) == @levels;
push @problems, "ran " . $p->tests_run . ", want " . scalar @levels unless $p->tests_run == @levels;
for my $i (0 .. $#levels) {
	my $t = $tests[$i] or last;
	my $l = $levels[$i];
	my @st = @{ $status{$l} };
	my $fail = grep { $_ ne 'pass' && $_ ne 'skip' } @st;
	my $all_skip = !grep { $_ ne 'skip' } @st;
	push @problems, "test $i: description '" . $t->description . "', want '$l'"
		unless $t->description eq $l;
	push @problems, "test $i ($l): number " . $t->number unless $t->number == $i + 1;
	push @problems, "level $l: ok=" . ($t->is_actual_ok ? 1 : 0) . ", want " . ($fail ? 0 : 1)
		unless !$t->is_actual_ok == !!$fail;
	push @problems, "level $l: SKIP=" . ($t->has_skip ? 1 : 0) . ", want " . ($all_skip ? 1 : 0)
		unless !$t->has_skip == !$all_skip;
}
my $any_fail = grep { my $l = $_; grep { $_ ne 'pass' && $_ ne 'skip' } @{ $status{$l} } } @levels;
push @problems, "TAP::Parser says " . ($p->has_problems ? "" : "no ") . "problems, want the opposite"
	unless !$p->has_problems == !$any_fail;

print "TAP::Parser: FAIL: $_\n" for @problems;
exit 1 if @problems;
print "TAP::Parser: ok (", scalar @levels, " levels, version ", $p->version, ")\n";
