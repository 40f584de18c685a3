"""The checks of each assignment: one package per assignment, one module per exercise."""
