"""Revision graphs shared by the library tests."""
from audit_alembic.testing.fixtures import Rev

#: A -> B -> C; C -> D -> E; C -> D0 -> E0; D0 -> E1; F merges E and E0;
#: E1 -> F1; E1 -> F2; G merges F and F1; F2 -> G2; F2 -> G3 -> G4;
#: H merges G and G2 and depends on G4.
BRANCHY = [
    Rev('A'), Rev('B', 'A'), Rev('C', 'B'),
    Rev('D', 'C'), Rev('E', 'D'),
    Rev('D0', 'C'), Rev('E0', 'D0'), Rev('E1', 'D0'),
    Rev('F', ('E', 'E0')),
    Rev('F1', 'E1'), Rev('F2', 'E1'),
    Rev('G', ('F', 'F1')),
    Rev('G2', 'F2'), Rev('G3', 'F2'), Rev('G4', 'G3'),
    Rev('H', ('G', 'G2'), depends_on='G4'),
]

#: A straight line of three revisions.
LINEAR = [Rev('A'), Rev('B', 'A'), Rev('C', 'B')]
