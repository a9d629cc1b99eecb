"""The cooperation's directory as its own lists hold it: schools, members and expertise, imported."""
