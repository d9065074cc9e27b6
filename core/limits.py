"""The ranges of the database's integer columns, which every input is checked against."""

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
# bigint: ids.
ID_MAX = 2**63 - 1
