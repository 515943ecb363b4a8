"""contacts held while a connection cannot be used

A contact the product adds while the connection needs re-authorization, its list is
gone or Constant Contact is down or over its daily quota is kept here, sealed, and
sent once the connection works again; one row per person per integration.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 15:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'held_contact',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('integration_id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('email_hash', sa.String(length=64), nullable=False),
        sa.Column('contact_encrypted', sa.Text(), nullable=False),
        sa.Column('reason', sa.String(length=80), nullable=False),
        sa.Column('held_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('tries', sa.Integer(), nullable=False),
        sa.Column('claim', sa.String(length=32), nullable=True),
        sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['integration_id'],
            ['integration.id'],
            name=op.f('fk_held_contact_integration_id_integration'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['organization_id'],
            ['organization.id'],
            name=op.f('fk_held_contact_organization_id_organization'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_held_contact')),
        sa.UniqueConstraint(
            'integration_id',
            'email_hash',
            name=op.f('uq_held_contact_integration_id'),
        ),
    )
    op.create_index(
        'ix_held_contact_integration_id_id',
        'held_contact',
        ['integration_id', 'id'],
        unique=False,
    )


def downgrade():
    op.drop_index('ix_held_contact_integration_id_id', table_name='held_contact')
    op.drop_table('held_contact')
