"""indexes for step 4's pollers

The pollers look for the earliest due device codes (next_poll_at) and sweep open
attempts whose window has passed (outcome, expires_at) every second in every
process: both stay index lookups however many attempts the table holds.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 19:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_authorization_attempt_next_poll_at',
        'authorization_attempt',
        ['next_poll_at'],
    )
    op.create_index(
        'ix_attempt_open_expires', 'authorization_attempt', ['outcome', 'expires_at']
    )


def downgrade():
    op.drop_index('ix_attempt_open_expires', table_name='authorization_attempt')
    op.drop_index(
        'ix_authorization_attempt_next_poll_at', table_name='authorization_attempt'
    )
