"""notices owed about a connection, and whether its break was told

When a working connection breaks (Constant Contact stopped our access, the list is
gone), its customers are e-mailed once, and a webhook may be sent: each owed message
is a row written with the status change, delivered after, retried with backoff.
integration.break_noticed keeps a break from being told twice before the connection
has worked again.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 16:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (SQLite takes NOT NULL with a default): no table rebuild.
    op.add_column(
        'integration',
        sa.Column(
            'break_noticed', sa.Boolean(), nullable=False, server_default=sa.false()
        ),
    )
    op.create_table(
        'notice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('integration_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('event', sa.String(length=40), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('claim', sa.String(length=32), nullable=True),
        sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['integration_id'],
            ['integration.id'],
            name=op.f('fk_notice_integration_id_integration'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['user_id'],
            ['user.id'],
            name=op.f('fk_notice_user_id_user'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notice')),
    )
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_notice_integration_id'), ['integration_id'], unique=False
        )
        batch_op.create_index(
            batch_op.f('ix_notice_next_attempt_at'), ['next_attempt_at'], unique=False
        )


def downgrade():
    op.drop_table('notice')
    with op.batch_alter_table('integration', schema=None) as batch_op:
        batch_op.drop_column('break_noticed')
