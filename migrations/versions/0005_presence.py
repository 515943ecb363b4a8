"""where a customer's browser last was, per integration, for support's Right now

One row per integration: the page (an endpoint name) her browser last loaded or
checked from, and when. Written from her own page requests, at most once per few
seconds; dropped with its integration.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 15:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'presence',
        sa.Column('integration_id', sa.Integer(), nullable=False),
        sa.Column('page', sa.String(length=80), nullable=False),
        sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['integration_id'],
            ['integration.id'],
            name=op.f('fk_presence_integration_id_integration'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('integration_id', name=op.f('pk_presence')),
    )


def downgrade():
    op.drop_table('presence')
