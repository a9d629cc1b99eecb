"""The member's overview: Slack's Home tab, `/netwerkbot overzicht` elsewhere (issue 17)."""
