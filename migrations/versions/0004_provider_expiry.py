"""when Constant Contact's own code expires, per authorization attempt

Step 4 keeps asking about a device code until Constant Contact's own expires_in
for it, not only until the page's window or a newer code. Attempts made before
this revision knew no other end than their window, so that is theirs.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 13:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('authorization_attempt', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('provider_expires_at', sa.DateTime(timezone=True), nullable=True)
        )
    op.execute(
        'UPDATE authorization_attempt SET provider_expires_at = expires_at'
    )
    with op.batch_alter_table('authorization_attempt', schema=None) as batch_op:
        batch_op.alter_column(
            'provider_expires_at',
            existing_type=sa.DateTime(timezone=True),
            nullable=False,
        )


def downgrade():
    with op.batch_alter_table('authorization_attempt', schema=None) as batch_op:
        batch_op.drop_column('provider_expires_at')
