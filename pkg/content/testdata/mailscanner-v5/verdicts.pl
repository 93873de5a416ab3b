#!/usr/bin/perl
# Computes MailScanner's verdict for each crafted name: the first rule of
# the named rule file whose pattern matches the name (matched as
# MailScanner's SweepOther.pm does: $name =~ /$pattern/is, a leading "*"
# read as ".*"). Input lines: "CASE<TAB>file<TAB>name"; output lines:
# "file<TAB>name<TAB>line<TAB>action" (line 0 and action "none" when no
# rule matches). Written for qscan's tests; see README.
use strict;
use warnings;
use File::Basename qw(dirname);

my $dir = dirname($0);
my %rules;

sub load {
    my ($file) = @_;
    my @list;
    open(my $fh, '<', "$dir/$file") or die "open $file: $!";
    my $n = 0;
    while (my $line = <$fh>) {
        $n++;
        chomp $line;
        $line =~ s/^\s+//;
        $line =~ s/\s+$//;
        next if $line eq '' || $line =~ /^#/;
        my @f = split(/\t+/, $line, 5);
        next unless @f == 4 || @f == 5;
        my $re = $f[1];
        $re =~ s/^\*/.*/;
        push @list, [$n, lc($f[0]), $re];
    }
    close $fh;
    return \@list;
}

while (my $in = <>) {
    chomp $in;
    my ($tag, $file, $name) = split(/\t/, $in, 3);
    next unless defined $name && $tag eq 'CASE';
    $rules{$file} ||= load($file);
    my ($line, $action) = (0, 'none');
    for my $r (@{$rules{$file}}) {
        my ($n, $act, $re) = @$r;
        next if $re eq '-';
        if ($name =~ /$re/is) {
            ($line, $action) = ($n, $act);
            last;
        }
    }
    print "$file\t$name\t$line\t$action\n";
}
