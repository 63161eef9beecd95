"""English dates as operators read them in logs: ISO order, 24-hour clock (docs/i18n.md)."""

DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
# A day in a report's tables and chart: "16 Nov" (French keeps Django's "16 novembre").
MONTH_DAY_FORMAT = "d M"
