"""Operations that touch several tables or are reused by jobs, one module per noun."""
