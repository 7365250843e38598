// SPDX-License-Identifier: GPL-3.0-or-later
// Placeholder; replaced by the GUI entry point.
int main() { return 0; }
