"""CPR as KOMBIT's CPR replica (SF1520 `PersonBaseDataExtended`) describes a person: status,
residence and moves, address protection and custody; with the GP the child is listed with."""
